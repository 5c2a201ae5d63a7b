// summarize, extract and interpret, offline and deterministic: the same input always gives the
// same output (docs/operations.md says exactly what each produces).
#include <algorithm>
#include <cctype>
#include <regex>

#include "ops/builtin.hpp"

namespace coworker::ops {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// The documents in an input: `{data: [...]}`, a bare array, or nothing.
const json* documents(const json& in) {
  if (in.is_object() && in.contains("data") && in["data"].is_array()) return &in["data"];
  if (in.is_array()) return &in;
  return nullptr;
}

std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("text") && v["text"].is_string()) return v["text"].get<std::string>();
  return {};
}

std::string str_field(const json& doc, const char* key) {
  return doc.is_object() && doc.contains(key) && doc[key].is_string() ? doc[key].get<std::string>() : std::string();
}

std::vector<std::string> sentences(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    auto b = cur.find_first_not_of(" \t\r\n-*•");
    auto e = cur.find_last_not_of(" \t\r\n");
    if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
    cur.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      flush();
      continue;
    }
    cur += c;
    if ((c == '.' || c == '!' || c == '?') && (i + 1 == text.size() || std::isspace(static_cast<unsigned char>(text[i + 1]))))
      flush();
  }
  flush();
  return out;
}

std::string due_of(const std::string& sentence) {
  static const char* words[] = {"today", "tomorrow", "tonight", "monday", "tuesday", "wednesday", "thursday",
                                "friday", "saturday", "sunday", "end of day", "eod", "next week", "asap"};
  auto l = lower(sentence);
  for (const char* w : words) {
    auto pos = l.find(w);
    if (pos != std::string::npos && (pos == 0 || !std::isalpha(static_cast<unsigned char>(l[pos - 1])))) return w;
  }
  return {};
}

bool is_action(const std::string& sentence) {
  static const char* cues[] = {"please", "can you", "could you", "would you", "todo", "to do:", "action:",
                               "action item", "need to", "needs to", "must ", "remember to", "don't forget",
                               "make sure", "deadline", "asap", "follow up", "let me know"};
  auto l = lower(sentence);
  return std::any_of(std::begin(cues), std::end(cues), [&](const char* c) { return l.find(c) != std::string::npos; });
}

expected<json> summarize(const op_request& r) {
  const auto& in = r.in();
  if (const auto* docs = documents(in)) {
    json senders = json::array(), subjects = json::array();
    std::size_t unread = 0;
    for (const auto& d : *docs) {
      auto from = str_field(d, "from");
      if (!from.empty() && std::find(senders.begin(), senders.end(), json(from)) == senders.end()) senders.push_back(from);
      auto subject = str_field(d, "subject");
      if (!subject.empty()) subjects.push_back(subject);
      if (d.is_object() && d.contains("unread") && d["unread"].is_boolean() && d["unread"].get<bool>()) ++unread;
    }
    std::string s = std::to_string(docs->size()) + (docs->size() == 1 ? " item" : " items");
    if (unread) s += " (" + std::to_string(unread) + " unread)";
    if (!senders.empty()) {
      s += " from ";
      for (std::size_t i = 0; i < senders.size() && i < 3; ++i) s += (i ? ", " : "") + senders[i].get<std::string>();
      if (senders.size() > 3) s += " and " + std::to_string(senders.size() - 3) + " more";
    }
    if (!subjects.empty()) {
      s += ": ";
      for (std::size_t i = 0; i < subjects.size() && i < 5; ++i) s += (i ? "; " : "") + subjects[i].get<std::string>();
      if (subjects.size() > 5) s += "; …";
    }
    return json{{"summary", s}, {"count", docs->size()}, {"unread", unread}, {"senders", senders}, {"subjects", subjects}};
  }
  auto text = text_of(in);
  if (text.empty() && !in.is_null()) text = dump(in);
  auto parts = sentences(text);
  std::string s;
  for (const auto& p : parts) {
    if (s.size() + p.size() > 200) break;
    s += (s.empty() ? "" : " ") + p;
  }
  if (s.empty() && !parts.empty()) s = parts[0].substr(0, 200);
  std::size_t words = 0;
  bool in_word = false;
  for (char c : text) {
    bool w = !std::isspace(static_cast<unsigned char>(c));
    words += w && !in_word;
    in_word = w;
  }
  return json{{"summary", s}, {"count", parts.size()}, {"words", words}};
}

expected<json> extract(const op_request& r) {
  const auto& in = r.in();
  json items = json::array();
  auto scan = [&](const std::string& text, const json& source) {
    for (const auto& s : sentences(text)) {
      if (!is_action(s)) continue;
      json item{{"text", s}, {"source", source}};
      if (auto due = due_of(s); !due.empty()) item["due"] = due;
      items.push_back(std::move(item));
    }
  };
  if (const auto* docs = documents(in)) {
    std::size_t i = 0;
    for (const auto& d : *docs) {
      json source = d.is_object() && d.contains("name") ? d["name"] : json(i);
      scan(str_field(d, "subject"), source);
      scan(str_field(d, "body"), source);
      if (d.is_string()) scan(d.get<std::string>(), source);
      ++i;
    }
  } else {
    auto text = text_of(in);
    if (text.empty()) return make_error(codes::invalid_input, "extract needs text, {text}, or {data: [documents]}");
    scan(text, nullptr);
  }
  return json{{"items", std::move(items)}};
}

expected<json> interpret(const op_request& r) {
  auto text = text_of(r.in());
  if (text.empty()) return make_error(codes::invalid_input, "interpret needs text or {text}");
  auto l = lower(text);
  struct rule {
    const char* intent;
    std::vector<const char*> words;
  };
  static const std::vector<rule> rules{
      {"summarize", {"summar", "overview", "digest", "recap"}},
      {"create_task", {"task", "todo", "to-do", "to do"}},
      {"remind", {"remind", "reminder"}},
      {"send_message", {"send", "reply", "email ", "write to", "message"}},
      {"search", {"find", "search", "show", "list", "look up"}},
      {"delete", {"delete", "remove", "archive"}},
      {"schedule", {"schedule", "meeting", "calendar", "book"}},
  };
  std::string best = "unknown";
  std::size_t best_hits = 0;
  for (const auto& rl : rules) {
    std::size_t hits = 0;
    for (const char* w : rl.words) hits += l.find(w) != std::string::npos;
    if (hits > best_hits) {
      best_hits = hits;
      best = rl.intent;
    }
  }
  json entities = json::object();
  static const std::regex email_re(R"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})");
  json emails = json::array();
  for (auto it = std::sregex_iterator(text.begin(), text.end(), email_re); it != std::sregex_iterator(); ++it)
    emails.push_back(it->str());
  if (!emails.empty()) entities["emails"] = emails;
  if (auto due = due_of(text); !due.empty()) entities["when"] = due;
  double confidence = best_hits == 0 ? 0.1 : best_hits == 1 ? 0.6 : 0.9;
  return json{{"intent", best}, {"confidence", confidence}, {"entities", entities}, {"text", text}};
}

operation pure(std::string name, std::string description, sync_handler fn) {
  operation op;
  op.name = std::move(name);
  op.description = std::move(description);
  op.input_schema = json{{"type", "any"}};
  op.sync = std::move(fn);
  return op;
}

}  // namespace

std::vector<operation> text_operations() {
  return {pure("summarize", "offline summary of documents ({data:[...]}) or text: {summary, count, ...}", summarize),
          pure("extract", "offline action items from documents or text: {items: [{text, source, due?}]}", extract),
          pure("interpret", "offline intent of a text: {intent, confidence, entities, text}", interpret)};
}

}  // namespace coworker::ops

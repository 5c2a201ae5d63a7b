// envelope_text and tree_text: each record written directly as text (the members of to_json), its
// values (their forms) from the cache.
#include "core/event_text.hpp"

#include <string_view>
#include <unordered_map>

#include "coworker/limits.hpp"

namespace coworker {

value_text_cache::entry& value_text_cache::entry_of(const value_ptr& v) {
  auto it = map_.find(v.get());
  if (it != map_.end()) return it->second;
  if (order_.size() >= capacity_) {
    map_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(v.get());
  return map_.emplace(v.get(), entry{v, {}}).first->second;
}

const std::string& value_text_cache::text(const value_ptr& v) {
  if (!v) return null_;
  auto& e = entry_of(v);
  if (!e.has_text) {
    std::optional<std::string> handed;
    if (source_) handed = source_->claim_text(v);
    if (handed) ++taken_;
    e.text = handed ? std::move(*handed) : dump(*v);
    e.has_text = true;
  }
  return e.text;
}

record_forms value_text_cache::forms_of(const run_record& r, value_forms& forms) {
  bool fast = true;
  for (const value_ptr* v : {&r.input, &r.output}) {
    if (!*v) continue;
    if (auto it = map_.find(v->get()); it != map_.end() && it->second.small) continue;
    // Only a small value is kept for its verdict (its text is asked for next): a large one held
    // here would stay in memory for as long as the cache's other 4,095 entries.
    if (!forms.within_half(**v)) {
      fast = false;
      continue;
    }
    entry_of(*v).small = true;
  }
  if (fast) return {r.input, r.output, {}};
  return forms.of(r);
}

namespace {
void add_string(std::string& out, std::string_view s) { append_string_text(out, s); }

void add_key(std::string& out, std::string_view k) {
  out += ",\"";
  out += k;
  out += "\":";
}

void add_optional(std::string& out, std::string_view k, const std::string& s) {
  add_key(out, k);
  if (s.empty()) {
    out += "null";
  } else {
    add_string(out, s);
  }
}

void add_int(std::string& out, std::string_view k, std::int64_t v) {
  add_key(out, k);
  out += std::to_string(v);
}

void add_bool(std::string& out, std::string_view k, bool v) {
  add_key(out, k);
  out += v ? "true" : "false";
}

/// The record as compact JSON without its closing brace, its values last: the members of
/// to_json(run_record) (src/core/run_record.cpp), written directly instead of through a JSON object.
void open_record(std::string& out, const run_record& r, value_forms& forms, value_text_cache& cache) {
  auto f = cache.forms_of(r, forms);
  // Room for the values and the other members at once (reserve keeps growth geometric). Only the
  // sizes are taken here: a text from the cache is used before the next one is asked for.
  const auto values = cache.text(f.input).size() + cache.text(f.output).size();
  out.reserve(out.size() + values + 512 + 48 * r.child_run_ids.size());
  out += "{\"id\":";
  add_string(out, r.id);
  add_key(out, "operation");
  add_string(out, r.operation);
  add_optional(out, "doctype", r.doctype);
  add_optional(out, "stepId", r.step_id);
  add_key(out, "stepIndex");
  out += r.step_index < 0 ? "null" : std::to_string(r.step_index);
  add_key(out, "status");
  add_string(out, to_string(r.status));
  add_int(out, "created", r.created);
  add_key(out, "started");
  out += r.started ? std::to_string(r.started) : "null";
  add_key(out, "finished");
  out += r.finished ? std::to_string(r.finished) : "null";
  add_key(out, "error");
  if (r.err) {
    out += "{\"code\":";
    add_string(out, r.err->code);
    add_key(out, "message");
    add_string(out, r.err->message);
    add_key(out, "runId");
    add_string(out, r.err->run_id);
    add_key(out, "operation");
    add_string(out, r.err->operation);
    if (!r.err->path.empty()) {
      add_key(out, "path");
      add_string(out, r.err->path);
    }
    out += '}';
  } else {
    out += "null";
  }
  add_bool(out, "success", r.success);
  add_bool(out, "recovered", r.recovered);
  add_int(out, "attempts", r.attempts);
  add_optional(out, "parentRunId", r.parent_run_id);
  add_optional(out, "ownerRunId", r.owner_run_id);
  add_key(out, "childRunIds");
  out += '[';
  for (std::size_t i = 0; i < r.child_run_ids.size(); ++i) {
    if (i) out += ',';
    add_string(out, r.child_run_ids[i]);
  }
  out += ']';
  add_key(out, "chainId");
  add_string(out, r.chain_id);
  add_optional(out, "role", r.role);
  add_bool(out, "keepAlive", r.keep_alive);
  if (r.attempt_started) add_int(out, "attemptStarted", r.attempt_started);
  if (r.retry_at) add_int(out, "retryAt", r.retry_at);
  if (r.start_at) add_int(out, "startAt", r.start_at);
  if (r.redrives) add_int(out, "redrives", r.redrives);
  if (!r.chain_name.empty()) {
    add_key(out, "chainName");
    add_string(out, r.chain_name);
    add_int(out, "chainVersion", r.chain_version);
    add_key(out, "chainSha256");
    add_string(out, r.chain_sha256);
  }
  if (!r.trace_id.empty()) {
    add_key(out, "traceId");
    add_string(out, r.trace_id);
  }
  if (!r.parent_span_id.empty()) {
    add_key(out, "parentSpanId");
    add_string(out, r.parent_span_id);
  }
  add_key(out, "input");
  out += cache.text(f.input);
  add_key(out, "output");
  out += cache.text(f.output);
}
}  // namespace

std::string record_text(const run_record& r, value_forms& forms, value_text_cache& cache) {
  std::string text;
  open_record(text, r, forms, cache);
  text += "}";
  return text;
}

std::string tree_text(const std::vector<std::shared_ptr<const run_record>>& records, value_forms& forms, value_text_cache& cache) {
  if (records.empty()) return "null";
  std::unordered_map<std::string_view, const run_record*> by_id;
  for (const auto& r : records) by_id.emplace(r->id, r.get());
  std::string text;
  text.reserve(4096);
  auto add = [&](auto& self, const run_record& r, int depth) -> void {
    open_record(text, r, forms, cache);
    text += ",\"children\":[";
    bool first = true;
    if (depth < max_run_tree_depth)
      for (const auto& c : r.child_run_ids)
        if (auto it = by_id.find(c); it != by_id.end()) {
          if (!first) text += ',';
          first = false;
          self(self, *it->second, depth + 1);
        }
    text += "]}";
  };
  add(add, *records.front(), 0);
  return text;
}

std::string snapshot_text(std::uint64_t seq, const std::string& epoch, const std::string& stream,
                          const std::vector<std::shared_ptr<const run_record>>& records, value_forms& forms,
                          value_text_cache& cache) {
  std::string out = "{\"seq\":" + std::to_string(seq) + ",\"epoch\":";
  append_string_text(out, epoch);
  out += ",\"stream\":";
  append_string_text(out, stream);
  out += ",\"runs\":[";
  out.reserve(out.size() + records.size() * 1024);
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i) out += ',';
    open_record(out, *records[i], forms, cache);
    out += '}';
  }
  out += "]}";
  return out;
}

std::string envelope_text(const event& e, value_forms& forms, value_text_cache& cache) {
  std::string out = "{\"seq\":" + std::to_string(e.seq) + ",\"epoch\":";
  append_string_text(out, e.epoch);
  out += ",\"stream\":";
  append_string_text(out, e.stream);
  add_int(out, "time", e.time);
  add_key(out, "event");
  add_string(out, to_string(e.kind));
  add_key(out, "run");
  if (!e.run) return out + "null}";
  open_record(out, *e.run, forms, cache);
  out += "}}";
  return out;
}

}  // namespace coworker

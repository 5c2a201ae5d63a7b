// What the chain, template and condition fuzz targets check for one input, shared with the replay
// test (tests/unit/lang/fuzz_replay_test.cpp) so a finding is replayed through exactly the same
// entry points and properties. Each check returns what is wrong (empty: the input was handled
// cleanly); a crash, an escaped exception or a sanitizer report is a finding too.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "chain/compile.hpp"
#include "chain/json_parse.hpp"
#include "chain/pointer.hpp"
#include "coworker/run_record.hpp"
#include "expr/condition.hpp"
#include "template/template.hpp"

namespace coworker::fuzz {

using problems = std::vector<std::string>;

namespace detail {

inline bool one_of(const std::string& code, std::initializer_list<const char*> allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const char* c) { return code == c; });
}

inline bool pointer_syntax_ok(const std::string& p) {
  try {
    json::json_pointer jp(p);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

inline bool pointer_into(const json& doc, const std::string& p) {
  if (p.empty()) return true;
  try {
    return doc.contains(json::json_pointer(p));
  } catch (const std::exception&) {
    return false;
  }
}

inline std::string show(const error& e) { return e.code + " at '" + e.path + "': " + e.message; }

/// Operation names a chain may use in the fuzz targets: the engine's built-ins without a store.
inline chain::compile_options chain_options(limits lim) {
  chain::compile_options o;
  o.lim = lim;
  o.known_operation = [](std::string_view n) {
    for (const char* k : {"log", "message", "wait", "summarize", "extract", "interpret"})
      if (n == k) return true;
    return false;
  };
  return o;
}

/// Checks one compile result of `text` (parsed: its JSON, when it parses under `lim`).
inline void check_compiled(const chain::compile_result& r, const expected<json>& parsed, const limits& lim,
                           const char* label, problems& out) {
  auto bad = [&](const std::string& what) { out.push_back(std::string(label) + ": " + what); };
  if (r.ok() != static_cast<bool>(r.doc)) bad("ok() and doc disagree");
  for (const auto& e : r.errors) {
    if (!one_of(e.code, {codes::bad_json, codes::too_large, codes::too_deep, codes::invalid_chain,
                         codes::unknown_field, codes::duplicate_id, codes::unknown_reference,
                         codes::unknown_operation, codes::template_syntax, codes::condition_syntax}))
      bad("unexpected error code: " + show(e));
    if (e.message.empty()) bad("error without a message: " + show(e));
    if (parsed ? !pointer_into(*parsed, e.path) : !pointer_syntax_ok(e.path))
      bad("error path is not a pointer into the document: " + show(e));
  }
  if (!parsed && r.errors.size() != 1) bad("a parse error must be the only error");
  for (std::size_t i = 1; i < r.errors.size(); ++i)
    if (chain::pointer_less(r.errors[i].path, r.errors[i - 1].path)) bad("errors are not in document order");
  if (r.doc) {
    if (!r.doc->root) bad("a valid chain without a root step");
    if (r.doc->step_count > lim.max_steps) bad("a valid chain over max_steps");
    if (r.doc->depth > lim.max_chain_depth) bad("a valid chain over max_chain_depth");
  }
}

}  // namespace detail

/// fuzz_chain: `data` is chain text, validated as `engine::validate_text` does, with the default
/// limits and with small ones (so every limit is within reach of a short input).
inline problems check_chain(std::string_view data) {
  problems out;
  limits tight;
  tight.max_request_bytes = 2048;
  tight.max_json_depth = 12;
  tight.max_steps = 12;
  tight.max_chain_depth = 4;
  for (const auto& [lim, label] : {std::pair{limits{}, "default limits"}, std::pair{tight, "tight limits"}}) {
    auto opts = detail::chain_options(lim);
    auto r = chain::compile_chain_text(data, opts);
    auto parsed = chain::parse_json(data, lim);
    detail::check_compiled(r, parsed, lim, label, out);
    if (parsed) {
      // The same document handed over as JSON (engine::validate) gives the same verdict.
      auto direct = chain::compile_chain(*parsed, opts);
      if (direct.errors != r.errors) out.push_back(std::string(label) + ": compile_chain and compile_chain_text disagree");
    }
  }
  return out;
}

/// The scope templates and conditions are resolved against in the fuzz targets: `input`, `item`
/// (as a forEach binding), `error`, and the records `prev`, `a` and `nothing` (null output).
class fixed_scope final : public tmpl::scope {
 public:
  fixed_scope() {
    input_ = json::parse(R"({"n": 3, "s": "text", "f": 1.5, "t": true, "z": null, "e": "",
                             "a": [1, "two", {"x": "{{input.n}}", "length": 9}, [], {}],
                             "o": {"k": "v", "length": "own", "nested": {"deep": [0, 1, 2]}}})");
    item_ = json{{"id", 7}, {"tags", {"x", "y"}}};
    error_ = json{{"code", "boom"}, {"message", "failed"}, {"runId", "run-1"}, {"operation", "log"}};
    prev_.id = "run-prev";
    prev_.step_id = "prev_step";
    prev_.operation = "log";
    prev_.status = run_status::completed;
    prev_.output = share(json{{"data", {{{"from", "ann"}}, {{"from", "bob"}}}}, {"count", 2}});
    prev_.input = share(json("in"));
    a_ = prev_;
    a_.id = "run-a";
    a_.step_id = "a";
    a_.output = share(json::array({1, 2, 3}));
    nothing_.id = "run-n";
    nothing_.step_id = "nothing";
    nothing_.status = run_status::failed;
    nothing_.err = run_error{"boom", "failed", "run-n", "log", ""};
  }
  const json* value(std::string_view root) const override {
    if (root == "input") return &input_;
    if (root == "item") return &item_;
    if (root == "error") return &error_;
    return nullptr;
  }
  const run_record* record(std::string_view root) const override {
    if (root == "prev") return &prev_;
    if (root == "a") return &a_;
    if (root == "nothing") return &nothing_;
    return nullptr;
  }

 private:
  json input_, item_, error_;
  run_record prev_, a_, nothing_;
};

/// fuzz_template: `data` is a JSON value holding templates when it parses as one (a step's
/// `input`), otherwise one string; it is compiled, and resolved against fixed_scope.
inline problems check_template(std::string_view data) {
  problems out;
  limits lim;
  lim.max_request_bytes = 64 * 1024;
  auto parsed = chain::parse_json(data, lim);
  const json value = parsed ? *parsed : json(std::string(data));
  const std::string base = "/children/0/input";
  std::vector<error> errors;
  auto c = tmpl::compiled_value::compile(value, base, errors);
  for (const auto& e : errors) {
    if (!detail::one_of(e.code, {codes::template_syntax, codes::too_deep}))
      out.push_back("unexpected compile error code: " + detail::show(e));
    if (e.message.empty()) out.push_back("compile error without a message");
    if (e.path.compare(0, base.size(), base) != 0 || !detail::pointer_into(value, e.path.substr(base.size())))
      out.push_back("compile error path is not a pointer into the value: " + detail::show(e));
  }
  for (const auto& r : c.references()) {
    if (r.p.root.empty() || r.p.text.size() < 4) out.push_back("a reference without a root or text");
    if (r.pointer.compare(0, base.size(), base) != 0 || !detail::pointer_into(value, r.pointer.substr(base.size())))
      out.push_back("reference pointer is not a pointer into the value: " + r.pointer);
    // A reference's text parses again to the same path.
    auto again = tmpl::parse_path(std::string_view(r.p.text).substr(2, r.p.text.size() - 4), r.pointer);
    if (!again || again->root != r.p.root || again->segments.size() != r.p.segments.size())
      out.push_back("reference text does not parse back: " + r.p.text);
  }
  if (!errors.empty()) return out;
  fixed_scope s;
  auto resolved = c.resolve(s);
  if (resolved) {
    if (c.constant() && *resolved != value) out.push_back("a constant value changed when resolved");
  } else {
    const auto& e = resolved.error();
    if (e.code != codes::template_error || e.message.empty())
      out.push_back("unexpected resolve error: " + detail::show(e));
    if (c.constant()) out.push_back("a constant value failed to resolve");
  }
  return out;
}

/// fuzz_condition: `data` is the text of an `if`; compiled, and evaluated against fixed_scope.
inline problems check_condition(std::string_view data) {
  problems out;
  const std::string pointer = "/children/0/if";
  auto c = expr::condition::compile(data, pointer);
  if (!c) {
    const auto& e = c.error();
    if (!detail::one_of(e.code, {codes::condition_syntax, codes::template_syntax}) || e.message.empty() ||
        e.path != pointer)
      out.push_back("unexpected compile error: " + detail::show(e));
    return out;
  }
  if (c->text() != data) out.push_back("the condition's text differs from its source");
  for (const auto& r : c->references())
    if (r.pointer != pointer || r.p.root.empty()) out.push_back("a reference without the if's pointer or a root");
  fixed_scope s;
  auto v = c->evaluate(s);
  if (!v) {
    const auto& e = v.error();
    if (!detail::one_of(e.code, {codes::condition_error, codes::template_error}) || e.message.empty())
      out.push_back("unexpected evaluation error: " + detail::show(e));
  }
  return out;
}

}  // namespace coworker::fuzz

// compile_chain: one pass over the document builds the model and collects every shape error
// (forms, fields, types, ids, options, templates, limits); a second pass over the model checks
// references (references.cpp). Errors are sorted into document order at the end.
#include "chain/compile.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "chain/fields.hpp"
#include "chain/json_parse.hpp"
#include "chain/pointer.hpp"
#include "chain/references.hpp"
#include "core/json_schema.hpp"

namespace coworker::chain {

namespace {

using detail::type_phrase;

class builder {
 public:
  builder(const compile_options& opts, std::vector<error>& errors) : opts_(opts), errors_(errors) {}

  std::shared_ptr<step> build(const json& j, const std::string& ptr, int index, int depth, int level);

  /// Reports `as` names that are also step ids (a template root must name one thing).
  void check_as_names() {
    for (const auto& [name, p] : as_names_)
      if (auto it = ids_.find(name); it != ids_.end())
        err(codes::invalid_chain, "'as' name '" + name + "' is also the id of the step at " + it->second, p);
  }

  std::size_t steps = 0;
  int deepest = 0;
  std::set<std::string> operations;
  std::vector<std::pair<std::string, std::string>> pins;  ///< calls by name: pointer, "name@version"
  std::set<std::string> called;

 private:
  void err(const char* code, std::string msg, std::string ptr) {
    errors_.push_back(make_error(code, std::move(msg), std::move(ptr)));
  }
  void bad_type(const std::string& ptr, const std::string& what, const json& got) {
    err(codes::invalid_chain, what + ", got " + type_phrase(got), ptr);
  }
  static step_kind form_of(const json& j);
  void take_id(step& s, const json& v, const std::string& ptr);
  void take_operation(step& s, const json& v, const std::string& ptr);
  void take_if(step& s, const json& v, const std::string& ptr);
  void take_call(step& s, const json& v, const std::string& ptr);
  void take_input(step& s, const json& v, const std::string& ptr, bool direct_children);
  bool deep_value(const json& v, const std::string& ptr);
  void build_list(step& s, const json& v, const std::string& ptr, int depth, int level, const char* name);
  void check_group(step& s, const json& j, const std::string& ptr);
  void check_for_each(const json& j, const std::string& ptr);
  void check_await(const json& j, const std::string& ptr);

  const compile_options& opts_;
  std::vector<error>& errors_;
  std::unordered_map<std::string, std::string> ids_;  ///< id -> pointer of its first step
  std::vector<std::pair<std::string, std::string>> as_names_;  ///< forEach `as` name, its pointer
};

step_kind builder::form_of(const json& j) {
  if (j.contains("parallel") || j.contains("operations")) return step_kind::parallel;
  if (j.contains("forEach") || j.contains("do") || j.contains("as")) return step_kind::for_each;
  if (j.contains("children")) return step_kind::chain;
  auto op = j.find("operation");
  if (op != j.end() && op->is_string() && op->get_ref<const std::string&>() == "run") return step_kind::chain;
  return step_kind::operation;
}

std::shared_ptr<step> builder::build(const json& j, const std::string& ptr, int index, int depth, int level) {
  // Documents from parse_json are depth-bounded already; one built in code may not be.
  if (level > opts_.lim.max_json_depth) {
    err(codes::too_deep, "steps nest more than " + std::to_string(opts_.lim.max_json_depth) + " levels here", ptr);
    return nullptr;
  }
  if (!j.is_object()) {
    bad_type(ptr, "a step must be a JSON object", j);
    return nullptr;
  }
  ++steps;
  auto s = std::make_shared<step>();
  s->kind = form_of(j);
  s->pointer = ptr;
  s->index = index;
  if (s->kind == step_kind::parallel) s->operation = "parallel";
  if (s->kind == step_kind::for_each) s->operation = "forEach";
  if (s->kind == step_kind::chain) s->operation = "run";
  const bool nests = s->kind != step_kind::operation;
  const int inner_depth = nests ? depth + 1 : depth;
  bool too_deep = false;
  if (nests) {
    deepest = std::max(deepest, inner_depth);
    if (inner_depth > opts_.lim.max_chain_depth) {
      err(codes::invalid_chain,
          "chains, parallel groups and forEach nest " + std::to_string(inner_depth) + " deep here; the limit is " +
              std::to_string(opts_.lim.max_chain_depth),
          ptr);
      too_deep = true;  // check this step's own fields, but build nothing inside it
    }
  }

  // The id first, so that duplicates are reported at the later step in document order.
  if (auto id = j.find("id"); id != j.end()) take_id(*s, *id, ptr + "/id");
  for (const auto& [key, v] : j.items()) {
    auto p = child_pointer(ptr, key);
    if (key == "id") continue;
    if (!detail::field_allowed(s->kind, key)) {
      auto& all = detail::all_step_fields();
      if (std::find(all.begin(), all.end(), key) != all.end())
        err(codes::invalid_chain, "'" + key + "' does not apply to " + detail::form_name(s->kind), p);
      else
        errors_.push_back(detail::unknown_field(key, p, all, "a step"));
      continue;
    }
    if (key == "operation") {
      take_operation(*s, v, p);
    } else if (key == "doctype") {
      if (!v.is_string() || v.get_ref<const std::string&>().empty())
        bad_type(p, "'doctype' must be a non-empty string", v);
      else
        s->doctype = v.get<std::string>();
    } else if (key == "role") {
      static const std::unordered_set<std::string> roles = {"user", "assistant", "system"};
      if (!v.is_string() || !roles.count(v.get_ref<const std::string&>()))
        err(codes::invalid_chain, "'role' must be \"user\", \"assistant\" or \"system\"", p);
      else
        s->role = v.get<std::string>();
    } else if (key == "input") {
      take_input(*s, v, p, j.contains("children") || j.contains("chain"));
      if (s->kind == step_kind::chain && !j.contains("children") && !j.contains("chain") && v.is_object() &&
          v.contains("children") && !too_deep)
        build_list(*s, v["children"], p + "/children", inner_depth, level, "children");
    } else if (key == "if") {
      take_if(*s, v, p);
    } else if (key == "chain") {
      take_call(*s, v, p);
    } else if (key == "onError") {
      if (!v.is_object())
        bad_type(p, "'onError' must be a step (an object)", v);
      else
        s->on_error = build(v, p, -1, depth, level + 1);
    } else if (key == "options") {
      detail::parse_options(v, p, s->kind, s->options, errors_);
    } else if (key == "children" || key == "operations") {
      if (!too_deep) build_list(*s, v, p, inner_depth, level, key.c_str());
    } else if (key == "forEach") {
      if (v.is_string() || v.is_array()) {
        auto before = errors_.size();
        if (!deep_value(v, p)) s->for_each = tmpl::compiled_value::compile(v, p, errors_);
        if (v.is_string() && errors_.size() == before && s->for_each.constant())
          err(codes::invalid_chain, "'forEach' must be a template such as \"{{emails.output.data}}\" or an array", p);
      } else {
        bad_type(p, "'forEach' must be a template string or an array", v);
      }
    } else if (key == "as") {
      if (!v.is_string() || !detail::valid_name(v.get_ref<const std::string&>()))
        err(codes::invalid_chain, "'as' must be a name matching [A-Za-z_][A-Za-z0-9_-]*", p);
      else if (detail::reserved_name(v.get_ref<const std::string&>()))
        err(codes::invalid_chain, "'as' cannot be '" + v.get<std::string>() + "', a name templates reserve", p);
      else {
        s->as = v.get<std::string>();
        as_names_.emplace_back(s->as, p);
      }
    } else if (key == "do") {
      if (!v.is_object())
        bad_type(p, "'do' must be a step (an object)", v);
      else if (!too_deep)
        s->body = build(v, p, -1, inner_depth, level + 1);
    }
    // "parallel" is checked with the members in check_group.
  }

  switch (s->kind) {
    case step_kind::operation:
      if (!j.contains("operation"))
        err(codes::invalid_chain, "a step needs 'operation' (or 'children', 'parallel' + 'operations', 'forEach')",
            ptr);
      if (s->operation == "await") check_await(j, ptr);
      break;
    case step_kind::chain:
      if (!j.contains("operation"))
        err(codes::invalid_chain, "a chain needs \"operation\": \"run\"", ptr);
      if (j.contains("chain") && j.contains("children"))
        err(codes::invalid_chain, "a chain step calls a published chain ('chain') or lists 'children', not both",
            ptr + "/chain");
      else if (!j.contains("children") && !j.contains("chain") &&
               !(j.contains("input") && j["input"].is_object() && j["input"].contains("children")))
        err(codes::invalid_chain, "a chain (\"operation\": \"run\") needs 'children' (or 'chain': a published chain)", ptr);
      if (s->call && j.contains("input")) detail::check_call_input(*s, j["input"], ptr + "/input", errors_);
      break;
    case step_kind::parallel: check_group(*s, j, ptr); break;
    case step_kind::for_each: check_for_each(j, ptr); break;
  }
  return s;
}

/// An await step's input is `{"key": "...", "schema": {...}}` (docs/chain-language.md, "await"):
/// the key may be a template, the schema is checked here, before anything runs.
void builder::check_await(const json& j, const std::string& ptr) {
  auto in = j.find("input");
  const auto p = ptr + "/input";
  if (in == j.end() || !in->is_object()) {
    if (in == j.end() || !in->is_string())  // a whole-input template is checked when the step runs
      err(codes::invalid_chain, "an await step needs \"input\": {\"key\": \"...\"} (and an optional \"schema\")",
          in == j.end() ? ptr : p);
    return;
  }
  for (auto it = in->begin(); it != in->end(); ++it)
    if (it.key() != "key" && it.key() != "schema")
      err(codes::unknown_field, "an await step's input has \"key\" and \"schema\" only, not \"" + printable(it.key(), 60) + "\"",
          child_pointer(p, it.key()));
  auto key = in->find("key");
  if (key == in->end() || !key->is_string() || key->get_ref<const std::string&>().empty())
    err(codes::invalid_chain, "an await step's input needs \"key\": a non-empty string (a template may build it)",
        key == in->end() ? p : p + "/key");
  if (auto schema = in->find("schema"); schema != in->end())
    if (auto r = schema::check(*schema, p + "/schema"); !r) errors_.push_back(r.error());
}

void builder::take_id(step& s, const json& v, const std::string& p) {
  if (!v.is_string()) return bad_type(p, "'id' must be a string", v);
  const auto& id = v.get_ref<const std::string&>();
  if (!detail::valid_name(id))
    return err(codes::invalid_chain, "id '" + printable(id, 60) + "' must match [A-Za-z_][A-Za-z0-9_-]*", p);
  if (detail::reserved_name(id))
    return err(codes::invalid_chain, "id '" + id + "' is reserved: templates use it as a root", p);
  auto [it, fresh] = ids_.emplace(id, p.substr(0, p.size() - 3));
  if (!fresh) {
    auto first = it->second.empty() ? std::string("the chain") : "the step at " + it->second;
    return err(codes::duplicate_id, "id '" + id + "' is already used by " + first, p);
  }
  s.id = id;
}

void builder::take_operation(step& s, const json& v, const std::string& p) {
  if (!v.is_string() || v.get_ref<const std::string&>().empty())
    return bad_type(p, "'operation' must be a non-empty string", v);
  const auto& op = v.get_ref<const std::string&>();
  if (s.kind == step_kind::chain) {
    if (op != "run")
      err(codes::invalid_chain, "a step with 'children' is a chain; its operation must be \"run\", not '" +
                                    printable(op, 60) + "'", p);
    return;
  }
  s.operation = op;
  if (opts_.known_operation && !opts_.known_operation(op))
    return err(codes::unknown_operation, "unknown operation '" + printable(op, 60) + "': no handler serves it", p);
  operations.insert(op);
}

/// A call by name (docs/chain-language.md, "Published chains"): resolved and pinned now.
void builder::take_call(step& s, const json& v, const std::string& p) {
  if (!v.is_string() || v.get_ref<const std::string&>().empty())
    return bad_type(p, "'chain' must name a published chain (\"triage@3\", \"triage:prod\" or \"triage\")", v);
  if (!opts_.resolve_chain) return err(codes::unknown_reference, "no published chains can be called here", p);
  auto r = opts_.resolve_chain(v.get_ref<const std::string&>());
  if (!r) {
    auto e = std::move(r).error();
    e.path = p;
    errors_.push_back(std::move(e));
    return;
  }
  s.call = std::move(*r);
  pins.emplace_back(p, s.call->label());
  called.insert(s.call->name);
}

void builder::take_if(step& s, const json& v, const std::string& p) {
  if (v.is_boolean()) {
    s.when = expr::condition::constant(v.get<bool>());
  } else if (v.is_string()) {
    auto c = expr::condition::compile(v.get_ref<const std::string&>(), p);
    if (c)
      s.when = std::move(*c);
    else
      errors_.push_back(std::move(c).error());
  } else {
    bad_type(p, "'if' must be a condition string or a boolean", v);
  }
}

bool builder::deep_value(const json& v, const std::string& p) {
  if (detail::json_depth(v, opts_.lim.max_json_depth) <= opts_.lim.max_json_depth) return false;
  err(codes::too_deep, "the value nests deeper than " + std::to_string(opts_.lim.max_json_depth) + " levels", p);
  return true;
}

void builder::take_input(step& s, const json& v, const std::string& p, bool direct_children) {
  if (deep_value(v, p)) return;
  if (s.kind == step_kind::chain && !direct_children && v.is_object() && v.contains("children")) {
    // The note's v1 form: input.children are the chain's children (built by the caller); the
    // other input fields stay the chain's input. With no other field the chain has no explicit
    // input and receives the pipe, exactly like the `children` form without `input`.
    json rest = v;
    rest.erase("children");
    if (rest.empty()) return;
    s.has_input = true;
    s.input = tmpl::compiled_value::compile(rest, p, errors_);
    return;
  }
  // With `children` given directly, `input` is plain data even if it has a "children" field.
  s.has_input = true;
  s.input = tmpl::compiled_value::compile(v, p, errors_);
}

void builder::build_list(step& s, const json& v, const std::string& p, int depth, int level, const char* name) {
  if (!v.is_array()) return bad_type(p, std::string("'") + name + "' must be an array of steps", v);
  if (v.empty()) return err(codes::invalid_chain, std::string("'") + name + "' needs at least one step", p);
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto c = build(v[i], child_pointer(p, i), static_cast<int>(i), depth, level + 1);
    if (c) s.children.push_back(std::move(c));
  }
}

void builder::check_group(step& s, const json& j, const std::string& ptr) {
  auto par = j.find("parallel");
  if (par == j.end() || !j.contains("operations"))
    return err(codes::invalid_chain, "a parallel group needs both 'parallel' (the member ids) and 'operations'", ptr);
  auto pp = ptr + "/parallel";
  if (!par->is_array()) return bad_type(pp, "'parallel' must be an array of member ids", *par);
  std::vector<std::string> listed;
  for (std::size_t i = 0; i < par->size(); ++i) {
    const auto& e = (*par)[i];
    if (!e.is_string()) {
      bad_type(child_pointer(pp, i), "an entry of 'parallel' must be a member id", e);
      continue;
    }
    const auto& id = e.get_ref<const std::string&>();
    if (std::find(listed.begin(), listed.end(), id) != listed.end())
      err(codes::invalid_chain, "'" + printable(id, 60) + "' is listed twice in 'parallel'", child_pointer(pp, i));
    else
      listed.push_back(id);
  }
  const auto& ops = j["operations"];
  if (!ops.is_array()) return;  // reported by build_list
  std::vector<std::string> members;
  for (const auto& m : s.children) {
    if (m->id.empty()) {
      if (!ops[static_cast<std::size_t>(m->index)].contains("id"))  // a bad id is reported already
        err(codes::invalid_chain, "a member of a parallel group needs an 'id' (its key in the group's output)",
            m->pointer);
      continue;
    }
    members.push_back(m->id);
    if (std::find(listed.begin(), listed.end(), m->id) == listed.end())
      err(codes::invalid_chain, "member '" + m->id + "' is not listed in 'parallel'", m->pointer + "/id");
  }
  std::string missing;
  for (const auto& id : listed)
    if (std::find(members.begin(), members.end(), id) == members.end())
      missing += (missing.empty() ? "'" : ", '") + printable(id, 60) + "'";
  if (!missing.empty())
    err(codes::invalid_chain, "'parallel' lists " + missing + ", which no member of 'operations' has", pp);
}

void builder::check_for_each(const json& j, const std::string& ptr) {
  std::string missing;
  for (const char* f : {"forEach", "as", "do"})
    if (!j.contains(f)) missing += (missing.empty() ? "'" : ", '") + std::string(f) + "'";
  if (!missing.empty())
    err(codes::invalid_chain, "a forEach needs 'forEach', 'as' and 'do'; missing " + missing, ptr);
}

}  // namespace

compile_result compile_chain(const json& doc, const compile_options& opts) {
  compile_result out;
  try {
    if (!doc.is_object()) {
      out.errors.push_back(make_error(codes::invalid_chain,
                                      "a chain document must be a JSON object {\"operation\": \"run\", \"children\": "
                                      "[...]}, got " + type_phrase(doc),
                                      ""));
      return out;
    }
    auto op = doc.find("operation");
    bool is_chain = doc.contains("children") || (op != doc.end() && *op == "run");
    if (!is_chain || doc.contains("parallel") || doc.contains("operations") || doc.contains("forEach") ||
        doc.contains("do") || doc.contains("as")) {
      out.errors.push_back(make_error(
          codes::invalid_chain, "the document must be a chain: {\"operation\": \"run\", \"children\": [...]}", ""));
      return out;
    }
    builder b(opts, out.errors);
    auto root = b.build(doc, "", -1, 0, 0);
    b.check_as_names();
    if (b.steps > opts.lim.max_steps)
      out.errors.push_back(make_error(codes::invalid_chain,
                                      "the chain has " + std::to_string(b.steps) + " steps; the limit is " +
                                          std::to_string(opts.lim.max_steps),
                                      ""));
    if (root) detail::check_references(*root, out.errors);
    std::stable_sort(out.errors.begin(), out.errors.end(),
                     [](const error& a, const error& b) { return pointer_less(a.path, b.path); });
    if (out.errors.empty() && root) {
      auto d = std::make_shared<chain_doc>();
      d->root = std::move(root);
      d->step_count = b.steps;
      d->depth = b.deepest;
      d->operations.assign(b.operations.begin(), b.operations.end());
      out.doc = std::move(d);
      out.pins = std::move(b.pins);
      out.called.assign(b.called.begin(), b.called.end());
    }
  } catch (const std::exception& e) {
    out.doc.reset();
    out.errors.push_back(make_error(codes::internal, std::string("validation failed: ") + e.what(), ""));
  } catch (...) {
    out.doc.reset();
    out.errors.push_back(make_error(codes::internal, "validation failed", ""));
  }
  return out;
}

compile_result compile_chain_text(std::string_view text, const compile_options& opts) {
  auto parsed = parse_json(text, opts.lim);
  if (!parsed) {
    compile_result out;
    out.errors.push_back(std::move(parsed).error());
    return out;
  }
  return compile_chain(*parsed, opts);
}

}  // namespace coworker::chain

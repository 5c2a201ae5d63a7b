// The contracts of calls by name (docs/chain-language.md, "Published chains"): a caller's constant
// input against the callee's inputSchema, a caller's `{{t.output...}}` against its outputSchema —
// both before anything runs.
#include <string>

#include "chain/pointer.hpp"
#include "chain/references.hpp"
#include "core/json_schema.hpp"

namespace coworker::chain::detail {

namespace {

bool has_template(const json& v) {
  if (v.is_string()) return v.get_ref<const std::string&>().find("{{") != std::string::npos;
  if (v.is_object() || v.is_array())
    for (const auto& e : v)
      if (has_template(e)) return true;
  return false;
}

/// Validates what `v` fixes: all of it when it has no template, else an object's required members
/// and its members without templates.
void check_static(const json& schema, const json& v, const std::string& where, std::vector<error>& errors) {
  if (!has_template(v)) {
    if (auto r = schema::validate(schema, v, where); !r) errors.push_back(r.error());
    return;
  }
  if (!v.is_object() || !schema.is_object()) return;
  if (auto req = schema.find("required"); req != schema.end() && req->is_array())
    for (const auto& k : *req)
      if (k.is_string() && !v.contains(k.get<std::string>()))
        errors.push_back(make_error(codes::invalid_input, "missing required member \"" + k.get<std::string>() +
                                                              "\" (the called chain's inputSchema)",
                                    where));
  auto props = schema.find("properties");
  if (props == schema.end() || !props->is_object()) return;
  for (auto it = v.begin(); it != v.end(); ++it)
    if (auto p = props->find(it.key()); p != props->end()) check_static(*p, it.value(), child_pointer(where, it.key()), errors);
}

}  // namespace

void check_call_input(const step& s, const json& input, const std::string& where, std::vector<error>& errors) {
  if (!s.call || s.call->input_schema.is_null()) return;
  const auto before = errors.size();
  check_static(s.call->input_schema, input, where, errors);
  for (auto i = before; i < errors.size(); ++i)
    errors[i].message = s.call->label() + " refuses this input: " + errors[i].message;
}

std::string output_mismatch(const chain_ref& callee, const tmpl::path& p) {
  if (callee.output_schema.is_null() || p.segments.empty()) return {};
  if (p.segments.front().k != tmpl::segment::kind::field || p.segments.front().name != "output") return {};
  const json* schema = &callee.output_schema;
  std::string read = p.root + ".output";
  for (std::size_t i = 1; i < p.segments.size(); ++i) {
    const auto& seg = p.segments[i];
    if (seg.k == tmpl::segment::kind::length) return {};
    if (seg.k == tmpl::segment::kind::index) {
      auto items = schema->find("items");
      if (items == schema->end()) return {};  // any array
      schema = &*items;
      read += "[" + std::to_string(seg.index) + "]";
      continue;
    }
    auto props = schema->find("properties");
    if (props == schema->end() || !props->is_object()) {
      auto type = schema->find("type");
      if (type != schema->end() && type->is_string() && *type != "object")
        return "'" + read + "." + seg.name + "': " + callee.label() + "'s outputSchema says '" + read + "' is " +
               type->get<std::string>() + ", with no members";
      return {};  // an object of any shape
    }
    auto m = props->find(seg.name);
    if (m == props->end()) {
      std::string known;
      for (auto it = props->begin(); it != props->end(); ++it) known += (known.empty() ? "" : ", ") + it.key();
      return "'" + read + "." + seg.name + "', which " + callee.label() + "'s outputSchema does not have (" +
             (known.empty() ? std::string("no members") : "it has " + known) + ")";
    }
    schema = &*m;
    read += "." + seg.name;
  }
  return {};
}

}  // namespace coworker::chain::detail

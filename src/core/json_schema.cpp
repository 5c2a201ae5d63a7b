// The JSON Schema subset of json_schema.hpp: the schema's own check, and a value's.
#include "core/json_schema.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "chain/pointer.hpp"

namespace coworker::schema {

namespace {

constexpr std::array<std::string_view, 7> type_names{"object", "array", "string", "number", "integer", "boolean", "null"};
constexpr std::array<std::string_view, 9> keywords{"type",    "properties", "required",  "items",    "enum",
                                                   "minimum", "maximum",    "minLength", "maxLength"};
/// Schemas nest no deeper than this (a payload's own depth is bounded by the request limits).
constexpr int max_depth = 32;

std::string child(const std::string& at, std::string_view name) { return chain::child_pointer(at, name); }

bool is_type(std::string_view t, const json& v) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "number") return v.is_number();
  if (t == "integer") return v.is_number_integer() || (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>())));
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  return false;
}

expected<void> check_at(const json& s, const std::string& at, int depth) {
  auto bad = [&](const std::string& path, const std::string& why) { return make_error(codes::invalid_input, why, path); };
  if (depth > max_depth) return bad(at, "the schema nests deeper than " + std::to_string(max_depth) + " levels");
  if (!s.is_object()) return bad(at, "a schema is an object");
  for (auto it = s.begin(); it != s.end(); ++it)
    if (std::find(keywords.begin(), keywords.end(), it.key()) == keywords.end())
      return bad(child(at, it.key()), "\"" + it.key() +
                                          "\" is not supported: a schema may use type, properties, required, items, enum, "
                                          "minimum, maximum, minLength, maxLength");
  if (auto t = s.find("type"); t != s.end()) {
    auto known = [](const json& n) {
      return n.is_string() && std::find(type_names.begin(), type_names.end(), n.get_ref<const std::string&>()) != type_names.end();
    };
    if (t->is_array()) {
      for (std::size_t i = 0; i < t->size(); ++i)
        if (!known((*t)[i])) return bad(child(at, "type") + "/" + std::to_string(i), "an unknown type name");
    } else if (!known(*t)) {
      return bad(child(at, "type"), "\"type\" is one of object, array, string, number, integer, boolean, null (or a list of them)");
    }
  }
  if (auto p = s.find("properties"); p != s.end()) {
    if (!p->is_object()) return bad(child(at, "properties"), "\"properties\" is an object of schemas");
    for (auto it = p->begin(); it != p->end(); ++it)
      if (auto r = check_at(it.value(), child(child(at, "properties"), it.key()), depth + 1); !r) return r;
  }
  if (auto r = s.find("required"); r != s.end()) {
    if (!r->is_array() || !std::all_of(r->begin(), r->end(), [](const json& n) { return n.is_string(); }))
      return bad(child(at, "required"), "\"required\" is a list of property names");
  }
  if (auto i = s.find("items"); i != s.end())
    if (auto r = check_at(*i, child(at, "items"), depth + 1); !r) return r;
  if (auto e = s.find("enum"); e != s.end() && (!e->is_array() || e->empty()))
    return bad(child(at, "enum"), "\"enum\" is a non-empty list of values");
  for (const char* k : {"minimum", "maximum"})
    if (auto n = s.find(k); n != s.end() && !n->is_number()) return bad(child(at, k), std::string("\"") + k + "\" is a number");
  for (const char* k : {"minLength", "maxLength"})
    if (auto n = s.find(k); n != s.end() && !(n->is_number_unsigned() || (n->is_number_integer() && n->get<long long>() >= 0)))
      return bad(child(at, k), std::string("\"") + k + "\" is a whole number of characters, 0 or more");
  return {};
}

std::size_t utf8_length(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string describe(const json& v) { return v.is_number_integer() ? "integer" : v.type_name(); }

expected<void> validate_at(const json& s, const json& v, const std::string& at) {
  auto bad = [&](const std::string& why) { return make_error(codes::invalid_input, why, at.empty() ? "/" : at); };
  if (auto t = s.find("type"); t != s.end()) {
    bool fits = false;
    std::string wanted;
    for (const auto& name : t->is_array() ? *t : json::array({*t})) {
      fits = fits || is_type(name.get_ref<const std::string&>(), v);
      wanted += (wanted.empty() ? "" : " or ") + name.get<std::string>();
    }
    if (!fits) return bad("expected " + wanted + ", got " + describe(v));
  }
  if (auto e = s.find("enum"); e != s.end() && std::find(e->begin(), e->end(), v) == e->end())
    return bad("not one of the values the schema allows: " + dump(*e));
  if (v.is_number()) {
    const double x = v.get<double>();
    if (auto m = s.find("minimum"); m != s.end() && x < m->get<double>()) return bad("less than the minimum " + dump(*m));
    if (auto m = s.find("maximum"); m != s.end() && x > m->get<double>()) return bad("more than the maximum " + dump(*m));
  }
  if (v.is_string()) {
    const auto n = utf8_length(v.get_ref<const std::string&>());
    if (auto m = s.find("minLength"); m != s.end() && n < m->get<std::size_t>())
      return bad("shorter than " + dump(*m) + " characters");
    if (auto m = s.find("maxLength"); m != s.end() && n > m->get<std::size_t>())
      return bad("longer than " + dump(*m) + " characters");
  }
  if (v.is_object()) {
    if (auto r = s.find("required"); r != s.end())
      for (const auto& name : *r)
        if (!v.contains(name.get_ref<const std::string&>()))
          return make_error(codes::invalid_input, "missing the required property \"" + name.get<std::string>() + "\"",
                            child(at, name.get_ref<const std::string&>()));
    if (auto p = s.find("properties"); p != s.end())
      for (auto it = p->begin(); it != p->end(); ++it)
        if (auto f = v.find(it.key()); f != v.end())
          if (auto r = validate_at(it.value(), *f, child(at, it.key())); !r) return r;
  }
  if (v.is_array())
    if (auto items = s.find("items"); items != s.end())
      for (std::size_t i = 0; i < v.size(); ++i)
        if (auto r = validate_at(*items, v[i], at + "/" + std::to_string(i)); !r) return r;
  return {};
}

}  // namespace

expected<void> check(const json& schema, const std::string& where) { return check_at(schema, where, 0); }

expected<void> validate(const json& schema, const json& value, const std::string& where) {
  return validate_at(schema, value, where);
}

}  // namespace coworker::schema

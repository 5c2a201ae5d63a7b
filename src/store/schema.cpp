// schema_registry: loading doctype schemas and checking documents against them.
#include "store/schema.hpp"
#include "store/builtin_doctypes.hpp"

#include <filesystem>
#include <fstream>

namespace coworker::store {

namespace {

bool type_matches(const std::string& type, const json& v) {
  if (type == "any") return true;
  if (type == "string") return v.is_string();
  if (type == "number") return v.is_number();
  if (type == "integer") return v.is_number_integer();
  if (type == "boolean") return v.is_boolean();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  return false;
}

const char* kind_of(const json& v) { return v.is_number_integer() ? "integer" : v.type_name(); }

}  // namespace

expected<void> schema_registry::add(const json& s, const std::string& source) {
  auto bad = [&](const std::string& why) { return make_error(codes::invalid_input, source + ": " + why); };
  if (!s.is_object() || !s.contains("doctype") || !s["doctype"].is_string()) return bad("needs a \"doctype\" name");
  doctype_schema d;
  d.doctype = s["doctype"].get<std::string>();
  if (s.contains("strict") && !s["strict"].is_boolean()) return bad("\"strict\" must be true or false");
  d.strict = s.contains("strict") && s["strict"].get<bool>();
  if (s.contains("fields")) {
    if (!s["fields"].is_object()) return bad("\"fields\" must be an object");
    for (auto it = s["fields"].begin(); it != s["fields"].end(); ++it) {
      field_def f;
      f.name = it.key();
      const auto& v = it.value();
      if (v.is_string()) {
        f.type = v.get<std::string>();
      } else if (v.is_object()) {
        if (v.contains("type") && !v["type"].is_string()) return bad("field '" + f.name + "': \"type\" must be a type name");
        if (v.contains("required") && !v["required"].is_boolean())
          return bad("field '" + f.name + "': \"required\" must be true or false");
        f.type = v.contains("type") ? v["type"].get<std::string>() : std::string("any");
        f.required = v.contains("required") && v["required"].get<bool>();
        if (v.contains("default")) f.default_value = v["default"];
      } else {
        return bad("field '" + f.name + "' must be a type name or an object");
      }
      if (!type_matches(f.type, json()) && f.type != "string" && f.type != "number" && f.type != "integer" &&
          f.type != "boolean" && f.type != "object" && f.type != "array")
        return bad("field '" + f.name + "' has unknown type '" + f.type + "'");
      d.fields.push_back(std::move(f));
    }
  }
  schemas_[d.doctype] = std::move(d);
  return {};
}

expected<void> schema_registry::load_dir(const std::string& dir) {
  std::error_code ec;
  if (dir.empty() || !std::filesystem::is_directory(dir, ec)) return {};
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    auto j = json::parse(in, nullptr, false);
    if (j.is_discarded()) return make_error(codes::invalid_input, entry.path().string() + ": not valid JSON");
    if (auto r = add(j, entry.path().string()); !r) return r;
  }
  return {};
}

expected<void> schema_registry::load_builtin() {
  for (const auto& b : builtin_doctypes()) {
    auto j = json::parse(b.text, nullptr, false);
    if (j.is_discarded()) return make_error(codes::invalid_input, "built-in " + std::string(b.file) + ": not valid JSON");
    if (auto r = add(j, "built-in " + std::string(b.file)); !r) return r;
  }
  return {};
}

const doctype_schema* schema_registry::find(const std::string& doctype) const {
  auto it = schemas_.find(doctype);
  return it == schemas_.end() ? nullptr : &it->second;
}

std::vector<std::string> schema_registry::doctypes() const {
  std::vector<std::string> out;
  for (const auto& [name, s] : schemas_) out.push_back(name);
  return out;
}

expected<void> schema_registry::check(const std::string& doctype, const json& doc) const {
  if (!doc.is_object()) return make_error(codes::invalid_document, doctype + ": a document must be a JSON object");
  const auto* s = find(doctype);
  if (!s) return {};  // no schema: any object
  for (const auto& f : s->fields) {
    auto it = doc.find(f.name);
    if (it == doc.end() || it->is_null()) {
      if (f.required) return make_error(codes::invalid_document, doctype + "." + f.name + ": required field is missing");
      continue;
    }
    if (!type_matches(f.type, *it))
      return make_error(codes::invalid_document,
                        doctype + "." + f.name + ": expected " + f.type + ", got " + kind_of(*it));
  }
  if (s->strict) {
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      const auto& k = it.key();
      if (k == "name" || k == "created" || k == "modified") continue;
      bool known = false;
      for (const auto& f : s->fields) known = known || f.name == k;
      if (!known) return make_error(codes::invalid_document, doctype + "." + k + ": not a field of " + doctype);
    }
  }
  return {};
}

expected<json> schema_registry::check_new(const std::string& doctype, json doc) const {
  if (!doc.is_object()) return make_error(codes::invalid_document, doctype + ": a document must be a JSON object");
  if (const auto* s = find(doctype))
    for (const auto& f : s->fields)
      if (!f.default_value.is_null() && (!doc.contains(f.name) || doc[f.name].is_null())) doc[f.name] = f.default_value;
  if (auto r = check(doctype, doc); !r) return r.error();
  return doc;
}

json schema_registry::describe(const std::string& doctype) const {
  const auto* s = find(doctype);
  json fields = json::object();
  if (s)
    for (const auto& f : s->fields) {
      json d{{"type", f.type}, {"required", f.required}};
      if (!f.default_value.is_null()) d["default"] = f.default_value;
      fields[f.name] = std::move(d);
    }
  return json{{"doctype", doctype}, {"schema", s != nullptr}, {"strict", s && s->strict}, {"fields", fields}};
}

}  // namespace coworker::store

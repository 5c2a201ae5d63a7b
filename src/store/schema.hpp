// Doctype schemas: field names, types, required, defaults (config/doctypes/*.json).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/json.hpp"

namespace coworker::store {

struct field_def {
  std::string name;
  std::string type = "any";  ///< string number integer boolean object array any
  bool required = false;
  json default_value;        ///< null: none
};

struct doctype_schema {
  std::string doctype;
  std::vector<field_def> fields;
  bool strict = false;  ///< true: fields not listed are refused
};

class schema_registry {
 public:
  /// Reads every `*.json` in `dir` (`{"doctype": "Task", "fields": {"title": {"type": "string",
  /// "required": true}, ...}}`); a missing directory adds nothing. Errors name the file.
  expected<void> load_dir(const std::string& dir);
  /// Adds the built-in doctypes (config/doctypes, built into the library: store/builtin_doctypes.hpp).
  expected<void> load_builtin();
  expected<void> add(const json& schema, const std::string& source);
  const doctype_schema* find(const std::string& doctype) const;
  std::vector<std::string> doctypes() const;

  /// Fills defaults and checks a new document; invalid_document names doctype and field.
  expected<json> check_new(const std::string& doctype, json doc) const;
  /// Checks a document after an update was merged into it.
  expected<void> check(const std::string& doctype, const json& doc) const;
  json describe(const std::string& doctype) const;

 private:
  std::map<std::string, doctype_schema> schemas_;
};

}  // namespace coworker::store

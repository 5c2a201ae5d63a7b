// Templates `{{ path }}` (docs/templates.md): compiled once at validation, resolved per run against a scope.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/json.hpp"
#include "coworker/run_record.hpp"

namespace coworker::tmpl {

/// One step of a path after its root: `.field`, `[index]`, or `.length`.
struct segment {
  enum class kind { field, index, length };
  kind k = kind::field;
  std::string name;       ///< field name (also "length" for kind::length)
  std::size_t index = 0;  ///< for kind::index
};

/// A parsed `{{ root.seg[0].length }}`.
struct path {
  std::string root;
  std::vector<segment> segments;
  std::string text;  ///< the template as written, e.g. "{{emails.output.data}}", for messages
};

/// A template found in a document, with the JSON Pointer of the string that holds it.
struct reference {
  path p;
  std::string pointer;
};

/// Parses the inside of one `{{ ... }}` (without the braces). Errors: code template_syntax.
expected<path> parse_path(std::string_view inner, const std::string& pointer);

/// What templates see. Roots are either plain values (`input`, `error`, a forEach `as` name) or run
/// records (`prev`, a step id); a record's fields are those of its JSON form (docs/run-record.md).
class scope {
 public:
  virtual ~scope() = default;
  /// The value a plain root names, or nullptr when the root is not a plain value here.
  virtual const json* value(std::string_view root) const = 0;
  /// The run record a root names, or nullptr when the root names no record here.
  virtual const run_record* record(std::string_view root) const = 0;
};

/// Follows `p` in `s`. A missing root or segment is a template_error naming it.
expected<json> lookup(const path& p, const scope& s);

/// A JSON value (from a step's `input`, `forEach`, ...) with its templates parsed once.
/// A string that is exactly one template yields the referenced value with its type; a template
/// inside a longer string is interpolated (strings as they are, other values as compact JSON).
/// Resolved values are never expanded again.
class compiled_value {
 public:
  compiled_value() = default;
  /// Parses every template in `v`. `pointer` is the JSON Pointer of `v` in the document; syntax
  /// errors (code template_syntax) name the exact string's pointer. All errors are appended.
  static compiled_value compile(const json& v, const std::string& pointer, std::vector<error>& errors);

  /// True when `v` holds no template: resolve() then returns the source unchanged.
  bool constant() const { return refs_.empty(); }
  /// Every template in the value, for validation of references.
  const std::vector<reference>& references() const { return refs_; }
  const json& source() const { return source_; }

  expected<json> resolve(const scope& s) const;

 private:
  struct node;  // defined in template.cpp
  json source_;
  std::vector<reference> refs_;
  std::shared_ptr<const node> root_;  ///< null when constant
};

}  // namespace coworker::tmpl

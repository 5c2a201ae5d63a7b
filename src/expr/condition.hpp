// The `if` expression language (docs/conditions.md): templates and literals with == != < <= > >= && || !
// and parentheses. A template's value is always an operand, never syntax.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/json.hpp"
#include "template/template.hpp"

namespace coworker::expr {

/// Falsy: false, null, 0, "" — everything else is truthy.
bool truthy(const json& v);

class condition {
 public:
  condition() = default;
  /// Parses `text`; errors (code condition_syntax or template_syntax) carry `pointer`.
  static expected<condition> compile(std::string_view text, const std::string& pointer);
  /// A JSON boolean `if` (true/false) is allowed too.
  static condition constant(bool value);

  const std::vector<tmpl::reference>& references() const { return refs_; }
  const std::string& text() const { return text_; }

  /// Evaluates against `s`. A missing template path is a template_error.
  expected<bool> evaluate(const tmpl::scope& s) const;

 private:
  struct node;  // the AST, defined in condition.cpp
  std::string text_;
  std::vector<tmpl::reference> refs_;
  std::shared_ptr<const node> root_;
};

}  // namespace coworker::expr

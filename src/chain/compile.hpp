// Whole-document validation (docs/chain-language.md) that turns chain JSON into the typed model.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "chain/model.hpp"
#include "coworker/error.hpp"
#include "coworker/limits.hpp"

namespace coworker::chain {

struct compile_options {
  limits lim;
  /// Whether an operation name is served by someone; unset: every name is accepted.
  std::function<bool(std::string_view)> known_operation;
  /// Resolves a call by name (`"chain": "triage@3"`, `"triage:prod"`, `"triage"`) to the version it
  /// pins; an error is reported at the field. Unset: calls by name are refused.
  std::function<expected<std::shared_ptr<const chain_ref>>(std::string_view ref)> resolve_chain;
};

struct compile_result {
  std::shared_ptr<const chain_doc> doc;  ///< set when errors is empty
  std::vector<error> errors;             ///< every error found, in document order
  /// Each call by name: the pointer of its `chain` field and the version it pinned ("triage@3"), in
  /// document order. What a chain is stored as has these written in (a restart runs the same).
  std::vector<std::pair<std::string, std::string>> pins;
  std::vector<std::string> called;       ///< the names of the published chains it calls, sorted, once
  bool ok() const { return errors.empty(); }
};

/// Validates `doc` whole and builds the model. Never throws.
compile_result compile_chain(const json& doc, const compile_options& opts);

/// parse_json + compile_chain.
compile_result compile_chain_text(std::string_view text, const compile_options& opts);

}  // namespace coworker::chain

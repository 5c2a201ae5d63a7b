// The reference check (docs/chain-language.md, section 4): every template root names something
// that exists when the template is resolved. Internal to src/chain; runs on the model the compiler
// built.
#pragma once

#include <vector>

#include "chain/model.hpp"
#include "coworker/error.hpp"

namespace coworker::chain::detail {

/// Checks every template of `root` and its descendants; appends unknown_reference errors.
///
/// A template may name `prev`, `input`, `error` (inside an onError subtree only), the `as` name of
/// an enclosing forEach (inside its `do`), or the id of a step that has finished before this one
/// starts: earlier siblings and everything nested in them, and the same for every ancestor. Steps
/// inside an onError subtree are visible only later inside that subtree; inside onError the step
/// that carries it counts as finished.
void check_references(const step& root, std::vector<error>& errors);

// --- contracts of calls by name (calls.cpp; docs/chain-language.md, "Published chains") ----------

/// Checks what a call step's input fixes without templates against the callee's inputSchema:
/// constant values whole; in an object built partly from templates, its required members and its
/// constant members. Appends invalid_input at `where` + the pointer of what does not fit.
void check_call_input(const step& s, const json& input, const std::string& where, std::vector<error>& errors);

/// What is wrong with reading `p` (`{{t.output.x.y}}`) from a call of `callee`, by its outputSchema;
/// empty when it fits (or the callee declares no outputSchema).
std::string output_mismatch(const chain_ref& callee, const tmpl::path& p);

}  // namespace coworker::chain::detail

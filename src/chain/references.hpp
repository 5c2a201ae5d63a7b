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

}  // namespace coworker::chain::detail

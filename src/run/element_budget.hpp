// limits.chainElements, decided before anything runs (docs/chain-language.md, "options"): a run's
// width is how many copies of it a chain may have in flight at once — the product of the member
// counts of the parallel groups above it and of the elements in flight of the forEach above it
// (all of them, or options.concurrency). A forEach whose elements' width would pass the limit
// fails `too_large` when it starts, before any element runs: the same way every time, whatever the
// timing of other runs. Plain C++, no actors.
#pragma once

#include <cstddef>

#include "coworker/error.hpp"

namespace coworker {

/// `a` × `b`, saturating at SIZE_MAX.
std::size_t saturating_product(std::size_t a, std::size_t b);

/// The width of a forEach's elements: `outer` (the forEach's own width) times the elements in
/// flight at once (`items`, or `concurrency` when it is smaller and not 0); too_large past `cap`
/// (0: no cap).
expected<std::size_t> for_each_width(std::size_t outer, std::size_t items, std::size_t concurrency, std::size_t cap);

}  // namespace coworker

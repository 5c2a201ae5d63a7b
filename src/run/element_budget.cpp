// The forEach width rule (see element_budget.hpp).
#include "run/element_budget.hpp"

#include <cstdint>
#include <string>

namespace coworker {

std::size_t saturating_product(std::size_t a, std::size_t b) {
  if (a != 0 && b > SIZE_MAX / a) return SIZE_MAX;
  return a * b;
}

expected<std::size_t> for_each_width(std::size_t outer, std::size_t items, std::size_t concurrency, std::size_t cap) {
  const auto at_once = concurrency != 0 && concurrency < items ? concurrency : items;
  const auto width = saturating_product(outer == 0 ? 1 : outer, at_once);
  if (cap != 0 && width > cap) {
    std::string message = "this forEach would have " + std::to_string(at_once) + " elements in flight";
    if (outer > 1) message += " in each of " + std::to_string(outer) + " enclosing runs in flight";
    message += ", past limits.chainElements (" + std::to_string(cap) +
               "); set options.concurrency on the forEach (nothing ran)";
    return make_error(codes::too_large, std::move(message));
  }
  return width;
}

}  // namespace coworker

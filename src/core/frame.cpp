// approx_size: bounds a value's size without serializing it.
#include "core/frame.hpp"

#include <vector>

namespace coworker {

std::size_t approx_size(const json& root, std::size_t cap) {
  std::size_t total = 0;
  std::vector<const json*> todo{&root};
  while (!todo.empty() && total <= cap) {
    const json* v = todo.back();
    todo.pop_back();
    switch (v->type()) {
      case json::value_t::object:
        total += 2;
        for (auto it = v->begin(); it != v->end(); ++it) {
          total += it.key().size() + 4;
          todo.push_back(&it.value());
        }
        break;
      case json::value_t::array:
        total += 2;
        for (const auto& e : *v) {
          total += 1;
          todo.push_back(&e);
        }
        break;
      case json::value_t::string: total += v->get_ref<const std::string&>().size() + 2; break;
      case json::value_t::binary: total += v->get_binary().size(); break;
      default: total += 8; break;
    }
  }
  return total;
}

}  // namespace coworker

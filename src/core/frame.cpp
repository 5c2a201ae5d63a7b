// approx_size: bounds a value's size without serializing it. Depth-first, the members of an object
// or array counted with it and then walked last to first; it stops once past `cap`. Every record
// that leaves the engine asks it of its values (value_forms), so it walks the containers directly
// and recurses instead of keeping a stack on the heap; past deep_levels a subtree gets a heap stack.
#include "core/frame.hpp"

#include <algorithm>
#include <vector>

namespace coworker {

namespace {

constexpr int deep_levels = 128;

/// What a value adds by itself: an object's or array's brackets and separators with its keys.
std::size_t own_size(const json& v) {
  switch (v.type()) {
    case json::value_t::object: {
      std::size_t n = 2;
      for (const auto& [k, member] : v.get_ref<const json::object_t&>()) n += k.size() + 4;
      return n;
    }
    case json::value_t::array: return 2 + v.get_ref<const json::array_t&>().size();
    case json::value_t::string: return v.get_ref<const std::string&>().size() + 2;
    case json::value_t::binary: return v.get_binary().size();
    default: return 8;
  }
}

template <typename Visit>
void each_member_last_first(const json& v, Visit&& visit) {
  if (v.is_object()) {
    const auto& o = v.get_ref<const json::object_t&>();
    for (auto it = o.rbegin(); it != o.rend(); ++it)
      if (!visit(it->second)) return;
  } else if (v.is_array()) {
    const auto& a = v.get_ref<const json::array_t&>();
    for (auto it = a.rbegin(); it != a.rend(); ++it)
      if (!visit(*it)) return;
  }
}

/// The subtree of `root` with a stack on the heap (the order of walk() below).
void walk_deep(const json& root, std::size_t cap, std::size_t& total) {
  std::vector<const json*> todo{&root};
  while (!todo.empty() && total <= cap) {
    const json* v = todo.back();
    todo.pop_back();
    total += own_size(*v);
    const auto mark = todo.size();
    each_member_last_first(*v, [&](const json& m) {
      todo.push_back(&m);
      return true;
    });
    std::reverse(todo.begin() + static_cast<std::ptrdiff_t>(mark), todo.end());  // the last member on top
  }
}

/// False once past `cap`.
bool walk(const json& v, std::size_t cap, std::size_t& total, int level) {
  if (total > cap) return false;
  if (level >= deep_levels) {
    walk_deep(v, cap, total);
    return total <= cap;
  }
  total += own_size(v);
  bool within = true;
  each_member_last_first(v, [&](const json& m) { return within = walk(m, cap, total, level + 1); });
  return within;
}

}  // namespace

std::size_t approx_size(const json& root, std::size_t cap) {
  std::size_t total = 0;
  walk(root, cap, total, 0);
  return total;
}

}  // namespace coworker

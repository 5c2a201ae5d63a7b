// What templates can name at a point of a run: finished steps by id, the chain's input, the
// forEach binding and, inside onError, the error. Frames chain outwards to enclosing chains.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "coworker/run_record.hpp"
#include "template/template.hpp"

namespace coworker {

using record_ptr = std::shared_ptr<const run_record>;
/// Finished runs a composite run makes visible to the steps after it, by step id.
using export_list = std::vector<std::pair<std::string, record_ptr>>;

struct frame {
  std::shared_ptr<const frame> parent;
  std::unordered_map<std::string, record_ptr> steps;
  std::string name;        ///< "input", "error" or a forEach `as` name; empty: none
  value_ptr value;         ///< what `name` is bound to

  /// Finds a value root by walking outwards.
  const json* find_value(std::string_view root) const {
    for (const frame* f = this; f; f = f->parent.get())
      if (!f->name.empty() && f->name == root) return &deref(f->value);
    return nullptr;
  }
  const run_record* find_record(std::string_view root) const {
    for (const frame* f = this; f; f = f->parent.get()) {
      if (f->steps.empty()) continue;
      auto it = f->steps.find(std::string(root));
      if (it != f->steps.end()) return it->second.get();
    }
    return nullptr;
  }
};

/// The template scope of one step: its frame plus `prev`.
class frame_scope final : public tmpl::scope {
 public:
  frame_scope(const frame* f, const run_record* prev) : f_(f), prev_(prev) {}
  const json* value(std::string_view root) const override { return f_ ? f_->find_value(root) : nullptr; }
  const run_record* record(std::string_view root) const override {
    if (root == "prev") return prev_;
    return f_ ? f_->find_record(root) : nullptr;
  }

 private:
  const frame* f_;
  const run_record* prev_;
};

/// Approximate serialized size of `v`, counting no further than `cap` (cheap: no text is built).
std::size_t approx_size(const json& v, std::size_t cap);

}  // namespace coworker

// operation_table: the registry of operation handlers.
#include "core/operation_table.hpp"

#include <algorithm>

namespace coworker {

expected<void> operation_table::add(operation op) {
  if (op.name.empty()) return make_error(codes::invalid_input, "an operation needs a name");
  if (op.name == "run") return make_error(codes::invalid_input, "'run' is the chain form and cannot be registered");
  bool has_handler = op.mode == handler_mode::async ? static_cast<bool>(op.async) : static_cast<bool>(op.sync);
  if (!has_handler) return make_error(codes::invalid_input, "operation '" + op.name + "' has no handler for its mode");
  auto name = op.name;
  std::lock_guard lock(mu_);
  ops_[name] = std::make_shared<const operation>(std::move(op));
  return {};
}

void operation_table::remove(const std::string& name) {
  std::lock_guard lock(mu_);
  ops_.erase(name);
}

std::shared_ptr<const operation> operation_table::find(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = ops_.find(std::string(name));
  return it == ops_.end() ? nullptr : it->second;
}

bool operation_table::contains(std::string_view name) const { return name == "run" || find(name) != nullptr; }

std::vector<std::shared_ptr<const operation>> operation_table::all() const {
  std::vector<std::shared_ptr<const operation>> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [n, op] : ops_) out.push_back(op);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->name < b->name; });
  return out;
}

}  // namespace coworker

// The operations a chain may name: built in, registered by the embedding program, or remote.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "coworker/operation.hpp"

namespace coworker {

class operation_table {
 public:
  /// Adds or replaces an operation. Fails on an empty name, "run", or a missing handler.
  expected<void> add(operation op);
  void remove(const std::string& name);
  std::shared_ptr<const operation> find(std::string_view name) const;
  bool contains(std::string_view name) const;
  std::vector<std::shared_ptr<const operation>> all() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const operation>> ops_;
};

}  // namespace coworker

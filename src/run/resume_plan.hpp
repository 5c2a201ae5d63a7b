// What a durable store remembered of a chain that was running when the engine stopped
// (docs/durability.md): its runs that finished are taken as they are, its runs that were running
// are run again in place. Plain data, read by run::machine when a resumed run starts its children.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/frame.hpp"

namespace coworker {

struct resume_plan {
  std::unordered_map<std::string, record_ptr> by_id;
  std::unordered_map<std::string, std::vector<record_ptr>> children_of;  ///< by owner, in start order

  explicit resume_plan(const std::vector<run_record>& records);
  /// The last recorded child of `owner` at `index` (a fallback has index -1), or null.
  record_ptr child(const std::string& owner, int index) const;
  /// Finished runs with a step id below `id`, for the templates of later steps.
  std::shared_ptr<const export_list> exports_below(const std::string& id) const;
};

}  // namespace coworker

// What a durable store remembered of a chain that was running when the engine stopped
// (docs/durability.md): its runs that finished are taken as they are, its runs that were running
// are run again in place. Plain data, read by run::machine when a resumed run starts its children.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "chain/model.hpp"
#include "core/frame.hpp"

namespace coworker {

struct resume_plan {
  /// A redrive (docs/chain-language.md, "Redrive"): only runs that ended well are taken; those that
  /// failed or were cancelled run again under their ids. Also set when a redriven chain resumes
  /// after a restart, so that what its redrive had not run again yet is not taken as it failed.
  bool redrive = false;
  std::unordered_map<std::string, record_ptr> by_id;
  std::unordered_map<std::string, std::vector<record_ptr>> children_of;  ///< by owner, in start order

  explicit resume_plan(const std::vector<run_record>& records, bool redrive = false);
  /// The last recorded child of `owner` at `index` (a fallback has index -1), or null.
  record_ptr child(const std::string& owner, int index) const;
  /// Finished runs with a step id below `id`, for the templates of later steps.
  std::shared_ptr<const export_list> exports_below(const std::string& id) const;
};

/// What a redrive of the chain `plan` holds would run (docs/chain-language.md, "Redrive"): the steps
/// below `root` whose runs did not end well or never ran, in document order, each once, by id (a
/// step without one by its JSON Pointer). onError fallbacks are not listed (they run only on a new
/// failure).
std::vector<std::string> redrive_steps(const chain::step& root, const resume_plan& plan, const std::string& root_id);

}  // namespace coworker

// What every run actor of one engine shares: registry, operations, pools, limits, the directory
// of live run actors (for cancel by id).
#pragma once

#include <atomic>

#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <caf/all.hpp>

#include "chain/model.hpp"
#include "core/frame.hpp"
#include "core/operation_table.hpp"
#include "core/run_registry.hpp"
#include "core/thread_pool.hpp"
#include "core/timer_service.hpp"
#include "coworker/limits.hpp"

namespace coworker {

struct engine_core {
  run_registry* registry = nullptr;
  operation_table* ops = nullptr;
  thread_pool* blocking = nullptr;
  limits lim;
  std::chrono::milliseconds cancel_grace{2000};

  // The live top chains by run id (cancel reaches a run below one through its chain). The
  // engine enters a chain when it spawns it, before anyone can know its id, so a cancel right
  // after submit finds it; the chain leaves when it ends. It can end (and leave) before it was
  // entered: `gone` remembers that, so it is never entered afterwards.
  mutable std::mutex dir_mu;
  std::unordered_map<std::string, caf::actor> directory;
  std::unordered_set<std::string> gone;  ///< left before they were entered

  void enter(const std::string& id, caf::actor a) {
    std::lock_guard lock(dir_mu);
    if (gone.erase(id)) return;
    directory.emplace(id, std::move(a));
  }
  void leave(const std::string& id) {
    std::lock_guard lock(dir_mu);
    if (!directory.erase(id)) gone.insert(id);
  }
  caf::actor find(const std::string& id) const {
    std::lock_guard lock(dir_mu);
    auto it = directory.find(id);
    return it == directory.end() ? caf::actor{} : it->second;
  }
};

/// What a durable store remembered of a chain that was running when the engine stopped: its runs
/// that finished are taken as they are, its runs that were running are run again in place.
struct resume_plan {
  std::unordered_map<std::string, record_ptr> by_id;
  std::unordered_map<std::string, std::vector<record_ptr>> children_of;  ///< by owner, in start order

  explicit resume_plan(const std::vector<run_record>& records);
  /// The last recorded child of `owner` at `index` (a fallback has index -1), or null.
  record_ptr child(const std::string& owner, int index) const;
  /// Finished runs with a step id below `id`, for the templates of later steps.
  std::shared_ptr<const export_list> exports_below(const std::string& id) const;
};

/// Everything a run actor needs to start: the step and where it stands in the flow.
struct run_spec {
  engine_core* core = nullptr;
  chain::step_ptr step;
  std::string id;
  std::string chain_id;
  std::string parent_run_id;
  std::string owner_run_id;
  int step_index = -1;
  std::shared_ptr<const frame> scope;  ///< names visible to this step's templates
  record_ptr prev;                     ///< `prev`
  value_ptr pipe;                      ///< the default input
  caf::actor parent;                   ///< gets the run_result; empty for a top chain
  std::shared_ptr<const resume_plan> resume;  ///< set when the chain resumes after a restart
  /// How many copies of this run the chain may have in flight at once (core/element_budget.hpp).
  std::size_t width = 1;
};

/// Spawns the run actor of a top chain.
caf::actor spawn_run(caf::actor_system& sys, run_spec spec);

}  // namespace coworker

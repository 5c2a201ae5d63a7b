// What every run actor of one engine shares: registry, operations, pools, the run settings, the
// directory of live top chains (for cancel by id).
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
#include "run/machine.hpp"

namespace coworker {

struct engine_core {
  run_registry* registry = nullptr;
  operation_table* ops = nullptr;
  thread_pool* blocking = nullptr;
  timer_service* timers = nullptr;  ///< attempt timeouts, retries, drains (cancelled when a run ends)
  run::settings settings;  ///< limits, cancel grace, run ids (src/run/machine.hpp)
  std::atomic<std::uint64_t> seeds{0};  ///< the retry jitter's seeds of top chains
  /// Set when a durable engine stops: runs killed then are not recorded as ended, they resume at
  /// the next start (docs/durability.md, "Stopping").
  std::atomic<bool> leaving{false};

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

/// Everything a run actor needs to start: the engine, whom to tell when it ends, and where the run
/// stands in its chain.
struct run_spec {
  engine_core* core = nullptr;
  caf::actor parent;  ///< gets the run's end; empty for a top chain
  run::placement where;
};

/// Spawns the run actor of a top chain.
caf::actor spawn_run(caf::actor_system& sys, run_spec spec);

}  // namespace coworker

// Retention of the stored history (docs/durability.md, "Retention"): finished chains beyond a count or
// older than an age are deleted by a thread of their own, a few at a time in short transactions, so
// commits of the runs in flight wait for at most one slice. SQLite reuses the pages they freed: at a
// steady rate of chains the file stops growing.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "coworker/error.hpp"

namespace coworker {

class run_store;

struct retention_policy {
  std::size_t keep_chains = 100000;  ///< finished top chains kept, newest first
  std::int64_t keep_ms = 0;          ///< and none created longer ago than this (0: no age limit)
  std::size_t slice = 100;           ///< chains deleted per transaction
};

/// Runs passes of retention on a thread: one a second after start (or `every_ms`, when shorter),
/// then every `every_ms` and when poked.
class history_pruner {
 public:
  using log_fn = std::function<void(std::string_view level, std::string_view text)>;
  history_pruner(run_store& store, retention_policy policy, std::int64_t every_ms, log_fn log);
  ~history_pruner();
  history_pruner(const history_pruner&) = delete;
  history_pruner& operator=(const history_pruner&) = delete;

  /// One whole pass now, on the caller's thread: the chains deleted, or the store's error.
  expected<std::size_t> pass();
  /// Asks the thread for a pass soon.
  void poke();

 private:
  static constexpr std::int64_t first_pass_after_ms = 1000;
  void loop();
  run_store& store_;
  retention_policy policy_;
  std::int64_t every_ms_;
  log_fn log_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, poked_ = false, failing_ = false;
  std::mutex pass_mu_;  // one pass at a time
  std::thread thread_;
};

}  // namespace coworker

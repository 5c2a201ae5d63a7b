// The signal board (docs/chain-language.md, "await"): await steps waiting for a signal, and
// signals kept for await steps that have not started yet. Plain C++ under one mutex, so its rules
// are tested without actors or clocks (tests/unit/lang/signal_board_test.cpp):
// - a signal by key goes to the oldest await waiting for that key whose schema it fits; an invalid
//   payload is refused (invalid_input at /payload/...) and the step keeps waiting;
// - a signal nobody waits for is kept, in arrival order, for limits.signalKeepMs; an await that
//   starts takes the oldest kept signal of its key (kept ones its schema refuses are dropped);
// - a signal by run id goes to that run's await only, not_waiting when it does not wait.
// In durable mode a signal_keeper stores what is kept before the board says "kept", and marks what
// an await took, so a restart loses neither (the resumed await, same run id, takes it again). An
// await's taking is a claim: in a cluster each node holds a copy of every kept signal, and the first
// claim wins; the others drop their copy.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/json.hpp"
#include "coworker/operation.hpp"

namespace coworker {

/// A signal kept for an await that has not started (or, taken_by set, taken by one that has not
/// ended yet: stored so that a restart gives it to the resumed await again).
struct kept_signal {
  std::uint64_t id = 0;  ///< the store's row id (memory mode: a counter)
  std::string key;
  value_ptr payload;
  std::int64_t kept_at = 0;  ///< ms since the epoch
  std::string taken_by;      ///< the await's run id, once taken
};

/// Where kept signals are stored (runs/signal_store.hpp); none in memory mode.
class signal_keeper {
 public:
  virtual ~signal_keeper() = default;
  virtual expected<std::uint64_t> keep(const std::string& key, const json& payload, std::int64_t at) = 0;
  /// Claims kept signal `id` for the await of `run_id`: false when another await took it first (in a
  /// cluster every node holds a copy of each kept signal: docs/cluster.md, "Signals").
  virtual expected<bool> take(std::uint64_t id, const std::string& run_id) = 0;
  virtual expected<void> drop(const std::vector<std::uint64_t>& ids) = 0;
};

struct signal_result {
  bool delivered = false;    ///< false: kept
  std::string run_id;        ///< the await run that took it
  std::uint64_t kept_id = 0;  ///< kept: its id (the store's row)
};

class signal_board {
 public:
  using log_fn = std::function<void(std::string_view level, std::string_view text)>;
  signal_board(std::int64_t keep_ms, std::size_t max_kept, signal_keeper* keeper = nullptr, log_fn log = {});

  /// What the store kept at the last stop (start-up, before any await starts).
  void restore(std::vector<kept_signal> rows);

  /// The await of run `run_id` starts, waiting for `key`; `schema` (null: any payload) has passed
  /// schema::check. A signal it takes (one taken before a restart, else the oldest kept one of the
  /// key) answers `r` at once; otherwise the run waits until a signal comes or `r` is done.
  void wait(const std::string& run_id, const std::string& key, json schema, responder r, std::int64_t now);

  /// A signal for the oldest await waiting for `key`, else kept. Errors: invalid_input (the payload
  /// does not fit the waiting step's schema; path /payload/...), busy (limits.keptSignals kept
  /// already), store_error (it could not be stored: not kept).
  expected<signal_result> signal(const std::string& key, const json& payload, std::int64_t now);
  /// A signal for the await of run `run_id` only: not_waiting when it is not waiting.
  expected<signal_result> signal_run(const std::string& run_id, const json& payload);
  /// A signal another node kept (in a cluster, docs/cluster.md "Signals"): the oldest await waiting
  /// here for its key takes it, if its claim in the store wins; else it is kept here too, for an
  /// await that starts later. The run of the await here that took it; empty when none did.
  std::string offer(kept_signal s, std::int64_t now);

  /// Forgets kept signals older than limits.signalKeepMs, awaits that stopped waiting (timed out,
  /// cancelled) and taken signals whose await has ended (`ended(run_id)`). Returns how many kept
  /// signals expired.
  std::size_t sweep(std::int64_t now, const std::function<bool(const std::string&)>& ended);

  std::size_t kept() const;
  std::size_t waiting() const;
  /// Is run `run_id` an await waiting now?
  bool is_waiting(const std::string& run_id) const;

 private:
  struct waiter {
    std::string run_id;
    std::string key;
    json schema;
    responder resp;
  };
  using waiter_ptr = std::shared_ptr<waiter>;

  /// The awaits waiting for `key`, oldest first; those that stopped waiting are forgotten.
  std::vector<waiter_ptr> live_waiters_locked(const std::string& key);
  bool deliver_locked(const waiter_ptr& w, const json& payload);
  void forget_waiter_locked(const waiter_ptr& w);
  void drop_locked(std::vector<std::uint64_t> ids, const char* why);

  const std::int64_t keep_ms_;
  const std::size_t max_kept_;
  signal_keeper* keeper_;
  log_fn log_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::deque<waiter_ptr>> waiters_;   ///< by key, oldest first
  std::unordered_map<std::string, waiter_ptr> by_run_;
  std::unordered_map<std::string, std::deque<kept_signal>> kept_;     ///< by key, oldest first
  std::size_t kept_count_ = 0;
  std::unordered_map<std::string, kept_signal> reserved_;  ///< taken before a restart, by run id
  std::vector<kept_signal> taken_;  ///< taken, until their await ends (durable mode)
  std::uint64_t next_id_ = 1;       ///< ids in memory mode
};

}  // namespace coworker

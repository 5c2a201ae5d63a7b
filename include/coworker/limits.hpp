// The limits, all configurable; exceeding one gives a clear error, never a crash. Every limit, its
// default, range and config key: docs/security.md, "Limits that protect the daemon".
#pragma once

#include <cstddef>

namespace coworker {

/// How deep a run tree is ever walked (get, tree, list, snapshot, resume): a guard against a cycle
/// in corrupt stored data. Above any tree a chain can make: limits.chainDepth is at most 64 (the
/// config file's range) and each nested step adds at most a fallback and a forEach element's level.
inline constexpr int max_run_tree_depth = 256;
/// How many times one run starts its attempt again because the worker that held its task was lost
/// (docs/protocol.md, "Workers"); one loss more and the run fails `worker_lost`.
inline constexpr int max_worker_losses = 10;

struct limits {
  /// A chain document or request frame: too_large. A value of max_value_bytes and 1 MiB for the rest.
  std::size_t max_request_bytes = 65 * 1024 * 1024;
  int max_json_depth = 64;                       ///< JSON nesting, checked while parsing: too_deep
  std::size_t max_steps = 10000;                 ///< steps in one chain after nesting: invalid_chain
  int max_chain_depth = 32;                      ///< nesting of chains/groups/forEach: invalid_chain
  std::size_t max_value_bytes = 64 * 1024 * 1024;  ///< one step input/output: the step fails too_large
  std::size_t max_concurrent_runs = 10000;       ///< chains in flight: busy
  /// Past this, values are carried as blob references in the store, events and replies (docs/store.md,
  /// "Blobs"): a record's input and output take at most this less 4 KiB (src/core/value_forms.hpp).
  std::size_t blob_bytes = 64 * 1024;
  /// The widest a forEach may be: its elements in flight at once (all, or options.concurrency)
  /// times the copies of it in flight (parallel members and enclosing forEach elements above it).
  /// A forEach past it fails too_large when it starts, before any element runs (a forEach over
  /// 1,500 inside one over 1,500 would be 2.25 million runs). src/run/element_budget.hpp.
  std::size_t max_chain_elements = 20000;
  /// An operation step without `options.timeoutMs` times out after this (code `timeout`), so a
  /// handler that never answers cannot keep a run running forever; 0: no default timeout.
  std::size_t step_timeout_ms = 60 * 60 * 1000;
  /// Finished chains kept in memory, in approximate bytes of memory (oldest dropped first): all of
  /// history in memory mode; in durable mode a cache of a quarter of it, the rest read back from the
  /// store (docs/durability.md, "History").
  std::size_t retained_bytes = 64 * 1024 * 1024;
  /// A signal no await step was waiting for is kept this long for one that starts later
  /// (docs/chain-language.md, "await"); also an await step's timeout when it sets none.
  std::size_t signal_keep_ms = 24 * 60 * 60 * 1000;
  /// Signals kept at once: past it a signal nobody waits for gets `busy`.
  std::size_t max_kept_signals = 100000;
  /// Schedules at once (docs/chain-language.md, "Schedules"): past it a new one gets `busy`.
  std::size_t max_schedules = 10000;
  /// Published chain versions, all names together (docs/chain-language.md, "Published chains"): past
  /// it a new version gets `busy` (publishing the same content again still answers).
  std::size_t max_published_versions = 10000;
};

}  // namespace coworker

// The run registry: the single source of truth for run records. It numbers every change as an
// event, hands batches to a persistence seam (the durable store plugs in here) and then delivers
// them to subscribers, each on a thread of its own so a slow subscriber never stalls runs.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "coworker/event.hpp"
#include "coworker/run_record.hpp"

namespace coworker {

using record_ptr = std::shared_ptr<const run_record>;

struct list_filter {
  std::optional<run_status> status;
  std::string chain_id;        ///< only runs of this chain
  bool roots_only = false;     ///< only top-level chains
  std::size_t limit = 100;
};

/// A chain as accepted, kept by a durable store until its run ends (to resume it after a crash).
struct chain_submission {
  std::string root_id;
  value_ptr document;
  value_ptr input;  ///< the submit-time input override; null handle: none
  std::string key;
  std::function<void()> on_durable;  ///< called on the committer thread once the chain is written
};

class run_registry {
 public:
  using subscriber = std::function<void(const event&)>;
  /// Called on the committer thread with each batch before it is delivered; a durable store
  /// writes the batch in one transaction here.
  using persist_fn = std::function<void(const std::vector<event>&, const std::vector<chain_submission>&)>;

  explicit run_registry(std::string epoch, std::size_t retain_chains = 10000, std::uint64_t first_seq = 0);
  ~run_registry();  ///< delivers what is pending, then stops
  run_registry(const run_registry&) = delete;
  run_registry& operator=(const run_registry&) = delete;

  const std::string& epoch() const { return epoch_; }
  void set_persist(persist_fn fn);

  /// A chain accepted but not started yet (no event). With `key`, later lookups by key find it.
  void add_pending(record_ptr root, const std::string& key = {}, chain_submission submission = {});
  /// Records read back from a durable store at start: no events. Unfinished roots count as active.
  void restore(std::vector<run_record> records, const std::vector<std::pair<std::string, std::string>>& keys);
  /// The id of the run started with idempotency `key`, if any.
  std::optional<std::string> find_key(const std::string& key) const;
  void started(record_ptr r);   ///< publishes before:run
  void finished(record_ptr r);  ///< publishes after:run
  /// Ends a record an actor left unfinished (it died or did not answer a cancel in time).
  /// Does nothing when the record is already final.
  void force_finish(const std::string& id, run_status status, const run_error& err);

  record_ptr get(const std::string& id) const;
  /// The record with its descendants: `{...record, "children": [...]}`.
  std::optional<json> tree(const std::string& id, std::size_t cut_bytes = 0) const;
  std::vector<record_ptr> list(const list_filter& f) const;
  /// Every record of unfinished chains and the last `recent` finished chains (for snapshots).
  /// `seq_out` receives the seq the records are current at.
  std::vector<record_ptr> snapshot_records(std::size_t recent, std::uint64_t* seq_out = nullptr) const;

  /// Blocks until the run is final or `timeout` passes; returns the record then.
  record_ptr wait_final(const std::string& id, std::chrono::milliseconds timeout) const;
  std::size_t active_chains() const;
  std::uint64_t seq() const;
  /// Waits until every event published so far has been delivered to every subscriber queue.
  void flush() const;
  /// Waits until every chain submission added so far has been persisted.
  void wait_persisted() const;

  std::uint64_t subscribe(subscriber s);
  void unsubscribe(std::uint64_t id);
  std::size_t subscriber_count() const;

 private:
  struct entry {
    record_ptr rec;
    std::vector<std::string> live_children;  ///< children started so far, while rec is not final
  };
  struct subscription;

  void publish_locked(event_kind k, record_ptr r);
  void retire_locked(const std::string& root_id);
  void erase_tree_locked(const std::string& id, int depth);
  record_ptr merged_locked(const entry& e) const;
  void tree_locked(const std::string& id, std::size_t cut, int depth, json& out) const;
  void commit_loop();

  const std::string epoch_;
  const std::size_t retain_chains_;
  mutable std::mutex mu_;
  mutable std::condition_variable final_cv_;
  std::unordered_map<std::string, entry> entries_;
  std::unordered_map<std::string, std::string> keys_;  ///< idempotency key → root run id
  std::unordered_map<std::string, std::string> key_of_root_;
  std::deque<std::string> finished_roots_;
  std::size_t active_roots_ = 0;
  std::uint64_t seq_ = 0;

  // Committer: events numbered under mu_ wait in pending_ until persisted and delivered.
  std::vector<event> pending_;
  std::vector<chain_submission> pending_chains_;
  mutable std::condition_variable commit_cv_;
  mutable std::condition_variable delivered_cv_;
  std::uint64_t delivered_seq_ = 0;
  std::uint64_t chains_added_ = 0;
  std::uint64_t chains_persisted_ = 0;
  bool stop_ = false;
  // Who sleeps on which condition: a notify costs a system call, so only wake real sleepers.
  bool committer_sleeping_ = false;
  mutable int final_waiters_ = 0;
  mutable int delivery_waiters_ = 0;
  persist_fn persist_;
  std::vector<std::shared_ptr<subscription>> subs_;
  std::uint64_t next_sub_ = 1;
  std::thread committer_;
};

}  // namespace coworker

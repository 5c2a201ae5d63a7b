// The run registry: the single source of truth for run records. Every change is numbered as an
// event and appended to the event log; the committer writes what the log holds to the durable
// store and only then marks it durable, which is what lets consumers read it (docs/durability.md).
// When a write fails nothing past the mark is published or acknowledged: the committer retries with
// backoff, and new chains are refused with `unavailable` until the store can write again.
#pragma once

#include <atomic>
#include <optional>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/event_dispatcher.hpp"
#include "core/event_log.hpp"
#include "core/value_forms.hpp"
#include "coworker/error.hpp"
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
  std::int64_t created = 0;  ///< the root run's `created`
};

/// Where finished chains are read back once they left memory: the durable store
/// (docs/durability.md, "History"). Called without the registry's lock held.
class run_history {
 public:
  virtual ~run_history() = default;
  virtual std::optional<run_record> record(const std::string& id) = 0;
  /// Records matching `f`, newest first, at most f.limit.
  virtual std::vector<run_record> list(const list_filter& f) = 0;
  /// The records of the `n` most recently finished chains.
  virtual std::vector<run_record> recent_chains(std::size_t n) = 0;
  virtual std::optional<std::string> find_key(const std::string& key) = 0;
};

class run_registry {
 public:
  /// Called on the committer thread with the held events (in seq order) and the chains accepted
  /// since the last commit; a durable store writes them in one transaction. An error leaves them
  /// held: they are offered again, with what came since, until a write succeeds.
  using persist_fn = std::function<expected<void>(const std::vector<const event*>&, const std::vector<chain_submission>&)>;
  using log_fn = std::function<void(std::string_view level, std::string_view text)>;

  /// `replay_window`: durable events kept in the log after every cursor read them (event_log).
  /// `stream`: the name every event carries (the engine's node: docs/cluster.md, "Events").
  explicit run_registry(std::string epoch, std::size_t retain_chains = 10000, std::uint64_t first_seq = 0,
                        std::size_t replay_window = 4096, std::string stream = {});
  ~run_registry();  ///< writes and delivers what is pending (bounded when the store fails), then stops
  run_registry(const run_registry&) = delete;
  run_registry& operator=(const run_registry&) = delete;

  const std::string& epoch() const { return epoch_; }
  const std::string& stream() const { return stream_; }
  /// Makes the registry durable: events are readable only once `fn` stored them. Set before any
  /// event is published.
  void set_persist(persist_fn fn, log_fn log);
  /// Finished chains stay in memory up to `bytes` (approximate bytes of memory; see retained_size)
  /// and `retain_chains`, oldest leaving first — in durable mode only once their end is stored.
  void set_retained_bytes(std::size_t bytes);
  /// Reads of finished chains that left memory go to `h` (durable mode). Set before any event.
  void set_history(std::shared_ptr<run_history> h);

  /// A chain accepted but not started yet (no event). With `key`, later lookups by key find it.
  /// `origin`: what the chain was started from, kept while its records are (chain_origin).
  void add_pending(record_ptr root, const std::string& key = {}, chain_submission submission = {},
                   std::shared_ptr<const void> origin = nullptr);
  /// Records read back from a durable store at start: no events. Unfinished roots count as active.
  void restore(std::vector<run_record> records, const std::vector<std::pair<std::string, std::string>>& keys);
  /// The id of the run started with idempotency `key`, if any.
  std::optional<std::string> find_key(const std::string& key) const;
  void started(record_ptr r);   ///< publishes before:run
  void updated(record_ptr r);   ///< publishes update:run (a run not ended changed its status)
  void finished(record_ptr r);  ///< publishes after:run
  /// Ends a record an actor left unfinished (it died or did not answer a cancel in time).
  /// Does nothing when the record is already final.
  void force_finish(const std::string& id, run_status status, const run_error& err);

  // --- redrive (docs/chain-language.md, "Redrive"; run_reopen.cpp) ---------------------------------
  /// The records of a top chain held in memory (none once it left memory), root first.
  std::vector<run_record> chain_records(const std::string& root_id) const;
  /// What a top chain held in memory was started from (add_pending's `origin`), or null.
  std::shared_ptr<const void> origin(const std::string& root_id) const;
  /// Makes a finished top chain active again to be redriven: `records` (its tree, from memory or
  /// the store) are held, the root is `running` with one more redrive, and the runs that did not end
  /// well may end again (their new record replaces the old). `stored`, when it has a document, is
  /// written again to the store's chains in flight. Fails with not_redrivable when the chain runs.
  expected<void> reopen(const std::string& root_id, const std::vector<run_record>& records, chain_submission stored);

  record_ptr get(const std::string& id) const;
  /// The record with its descendants: `{...record, "children": [...]}`, the values as `forms` gives
  /// them (null: as the records hold them — whole in memory, references when read from the store).
  std::optional<json> tree(const std::string& id, value_forms* forms = nullptr) const;
  /// The records of the same tree, the run first, its descendants depth-first (each record's
  /// childRunIds names its children); empty for an unknown run.
  std::vector<record_ptr> tree_records(const std::string& id) const;
  std::vector<record_ptr> list(const list_filter& f) const;
  /// Every record of unfinished chains and the last `recent` finished chains (for snapshots), in
  /// id order. `seq_out` receives the durable seq the records are current at (at least).
  std::vector<record_ptr> snapshot_records(std::size_t recent, std::uint64_t* seq_out = nullptr) const;

  /// Blocks until the run is final and its end is durable, or `timeout` passes; returns the
  /// record then (null for an unknown run) and sets `ended` when it ended and is stored.
  record_ptr wait_final(const std::string& id, std::chrono::milliseconds timeout, bool& ended) const;
  /// Blocks until the run's first event is durable (so its chain document is too); false when the
  /// run is unknown or the registry stops first.
  bool wait_durable(const std::string& id) const;
  /// The run's first event is durable (a run restored from the store is).
  bool is_durable(const std::string& id) const;
  std::size_t active_chains() const;
  std::uint64_t seq() const;          ///< the last event numbered (durable or held)
  std::uint64_t durable_seq() const { return log_.durable_seq(); }
  /// Set while the store cannot write (the last commit failed): the reason.
  std::optional<error> store_failure() const;
  /// Waits until every event numbered so far is durable and delivered to every subscriber (it
  /// returns early while the store cannot write).
  void flush() const;

  event_log& log() { return log_; }
  std::uint64_t subscribe(event_dispatcher::callback s) { return dispatcher_.subscribe(std::move(s)); }
  void unsubscribe(std::uint64_t id) { dispatcher_.unsubscribe(id); }
  std::size_t subscriber_count() const { return dispatcher_.count(); }
  /// Ends callback delivery (event_dispatcher::stop): before the engine's actor system goes.
  void stop_delivery() { dispatcher_.stop(); }

 private:
  struct entry {
    record_ptr rec;
    std::vector<std::string> live_children;  ///< children started so far, while rec is not final
    std::uint64_t first_seq = 0;             ///< its first event (0: none yet)
    std::uint64_t final_seq = 0;             ///< its after:run (0: not ended, or restored)
    std::size_t tree_bytes = 0;              ///< a top chain: retained_size of its finished records
    std::shared_ptr<const void> origin;      ///< a top chain: what it was started from (add_pending)
    bool replaceable = false;                ///< final, but redriven: its next end replaces it
  };

  /// Approximately what a finished record costs in memory, bounded by `cap`.
  static std::size_t retained_size(const run_record& r, std::size_t cap);

  void publish_locked(event_kind k, record_ptr r, entry& e);
  void retire_locked(const std::string& root_id);
  /// Drops the oldest finished chains past the budget (those stored, when durable).
  void evict_locked();
  std::vector<record_ptr> list_in_memory(const list_filter& f) const;
  std::vector<record_ptr> tree_of(const std::string& id) const;  ///< from history

  void erase_tree_locked(const std::string& id, int depth);
  record_ptr merged_locked(const entry& e) const;
  void collect_locked(const std::string& id, int depth, std::vector<record_ptr>& out) const;
  /// mu_, and on release the records let go under it freed after it (a record's last reference may
  /// be the registry's or an event's, and freeing its values takes longer than what runs do under mu_).
  class releasing_lock {
   public:
    explicit releasing_lock(run_registry& r) : r_(r), lock_(r.mu_) {}
    ~releasing_lock() {
      std::vector<record_ptr> dead;
      dead.swap(r_.dead_);
      lock_.unlock();
    }
    releasing_lock(const releasing_lock&) = delete;
    releasing_lock& operator=(const releasing_lock&) = delete;

   private:
    run_registry& r_;
    std::unique_lock<std::mutex> lock_;
  };
  void commit_loop();
  bool commit_once(std::vector<chain_submission>& chains, std::unique_lock<std::mutex>& lock);
  void wake_waiters_locked() const {
    if (waiters_ > 0) waiters_cv_.notify_all();
  }

  const std::string epoch_;
  const std::string stream_;
  const std::size_t retain_chains_;
  const std::uint64_t first_seq_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, entry> entries_;
  std::set<std::string> roots_;   ///< every top chain held, ordered by id (= by creation)
  std::set<std::string> active_;  ///< the top chains not ended
  std::unordered_map<std::string, std::string> keys_;  ///< idempotency key → root run id
  std::unordered_map<std::string, std::string> key_of_root_;
  struct retained {
    std::string root;
    std::size_t bytes = 0;
  };
  std::deque<retained> finished_roots_;  ///< in finishing order
  std::vector<record_ptr> dead_;          ///< let go under mu_, to be freed after it (releasing_lock)
  std::size_t retained_bytes_ = 0;       ///< the sum of finished_roots_' bytes
  std::atomic<std::size_t> retained_budget_{static_cast<std::size_t>(-1)};  ///< read outside mu_ too
  std::shared_ptr<run_history> history_;
  std::uint64_t seq_ = 0;

  event_log log_;
  mutable event_dispatcher dispatcher_;

  // The committer: chains accepted since the last commit, the store's state, who waits.
  std::vector<chain_submission> pending_chains_;
  persist_fn persist_;
  log_fn log_fn_;
  bool durable_mode_ = false;
  std::atomic<bool> failing_{false};
  std::optional<error> failure_;
  std::int64_t failing_since_ = 0;
  mutable std::condition_variable commit_cv_;
  mutable std::condition_variable waiters_cv_;
  mutable int waiters_ = 0;
  mutable std::unordered_multiset<std::string> waited_;  ///< the runs wait_final/wait_durable wait for
  bool committer_sleeping_ = false;
  bool stop_ = false;
  std::thread committer_;
};

}  // namespace coworker

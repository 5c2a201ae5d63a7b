// The durable run store (docs/durability.md, docs/store.md): run records with each value of a chain
// stored once, their events (a transactional outbox whose row id is the event's seq) and the chains in
// flight, in the SQLite file of the document store or in a PostgreSQL database (docs/store.md, "Two
// databases").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/event.hpp"
#include "core/run_registry.hpp"
#include "coworker/run_record.hpp"
#include "runs/value_refs.hpp"

namespace coworker {

namespace store::sql {
class database;
}
namespace cluster {
class lease_book;
}

struct retention_policy;
class value_forms;

/// A chain accepted and not finished when the store was last written.
struct stored_chain {
  std::string root_id;
  json document;   ///< the chain as submitted
  json input;      ///< the submit-time input override, or null
  bool has_input = false;
  std::string key;
};

class run_store final : public run_history {
 public:
  /// Opens (creating if needed) the file, or the PostgreSQL database of a postgresql:// URL (its tables
  /// made when missing); store_error naming the store when it cannot be used or another engine
  /// (another `coworker serve`) has it open. A file of an earlier schema is migrated (docs/store.md,
  /// "Run records"); `note` gets a line before and after.
  static expected<std::unique_ptr<run_store>> open(const std::string& location,
                                                   const std::function<void(const std::string&)>& note = {});
  /// The file's path, or the URL without its password.
  const std::string& location() const;
  ~run_store() override;
  run_store(const run_store&) = delete;
  run_store& operator=(const run_store&) = delete;

  /// Writes accepted chains, a batch of events and the records they carry in one transaction.
  /// A chain is kept until its root run ends.
  /// Nothing is written when it fails (the transaction is rolled back): the caller offers it again.
  /// With `forms`, values are written as it gives them, and the blobs they reference with them
  /// (docs/store.md, "Blobs").
  expected<void> write(const std::vector<const event*>& batch, const std::vector<chain_submission>& chains = {},
                       value_forms* forms = nullptr);
  expected<void> write(const std::vector<event>& batch, const std::vector<chain_submission>& chains = {},
                       value_forms* forms = nullptr);
  /// The text of blob `id`, when a chain kept references it.
  std::optional<std::string> blob(const std::string& id);

  /// In a cluster (PostgreSQL): every write first checks that `book`'s leases are still this node's
  /// and fails otherwise; new chains go to its home partition; start-up reads what it holds
  /// (docs/cluster.md). `book` outlives the store's use. A write transaction left open longer than
  /// half of `lease_ms` (a node paused mid-write) is ended by the server.
  expected<void> write_under(const cluster::lease_book* book, std::int64_t lease_ms);
  /// From now on every write fails with `why` (a node that lost its lease writes nothing more).
  void fence(std::string why);

  std::uint64_t last_seq();
  /// The chains in flight; in a cluster those of `partitions`, by default every partition held.
  std::vector<stored_chain> unfinished_chains(std::optional<std::vector<int>> partitions = std::nullopt);
  /// The chain as submitted, in flight or ended (kept until retention deletes it: for a redrive).
  std::optional<stored_chain> chain(const std::string& root_id);
  /// Every record of one chain (by chainId).
  std::vector<run_record> chain_records(const std::string& chain_id);
  /// The records of the `limit` most recently finished chains, with their keys.
  std::vector<run_record> recent_chain_records(std::size_t limit);
  std::vector<std::pair<std::string, std::string>> keys();  ///< (key, root id)
  /// The keys of the chains not finished (what a start-up needs; the others are read on demand).
  std::vector<std::pair<std::string, std::string>> unfinished_keys();

  // --- history: finished chains read back once they left memory (docs/durability.md) -------------
  std::optional<run_record> record(const std::string& id) override;
  /// Records matching `f`, newest first, at most f.limit.
  std::vector<run_record> list(const list_filter& f) override;
  std::vector<run_record> recent_chains(std::size_t n) override { return recent_chain_records(n); }
  std::optional<std::string> find_key(const std::string& key) override;

  /// Deletes up to `p.slice` of the oldest finished chains past `p.keep_chains` or created before
  /// `now - p.keep_ms`, with their values and keys, in one transaction: how many it deleted.
  expected<std::size_t> prune(const retention_policy& p, std::int64_t now);
  /// Deletes the events older than the newest `window` (they are only needed for seq to continue).
  expected<void> trim_events(std::uint64_t window);
  /// Transactions committed so far (to see batching at work).
  std::uint64_t commits() const { return commits_; }

 private:
  run_store(std::unique_ptr<store::sql::database> db, int lock_fd);
  std::unique_ptr<store::sql::database> db_;
  int lock_fd_;  ///< flock on `<file>.lock`: one engine per store file (-1 on PostgreSQL: leases instead)
  std::mutex mu_;
  const cluster::lease_book* book_ = nullptr;  // guarded by mu_
  // Why nothing is written any more. Its own lock, not mu_: a node is fenced while a write of its
  // may hang in a database that does not answer.
  mutable std::mutex fenced_mu_;
  std::string fenced_;
  std::uint64_t commits_ = 0;
  runs::value_refs refs_;  // the values stored for chains in flight; write() runs on one thread at a time (mu_)
};

}  // namespace coworker

// lease_book: who owns which partition of a PostgreSQL store (docs/cluster.md). One row of `leases`
// per partition: its owner (one engine's start, unique), the owner's node name, an epoch that grows
// by one at every change of owner, and when the lease expires, by the database's clock. Every rule is
// one statement decided by the database, so nodes agree without talking to each other; this class
// only sends them (no thread, no clock of its own: tests drive it step by step).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "coworker/error.hpp"
#include "store/database.hpp"

namespace coworker::cluster {

/// A partition held, with the epoch it was taken at.
struct lease {
  int partition = 0;
  std::int64_t epoch = 0;
  bool operator==(const lease&) const = default;
};

class lease_book {
 public:
  /// `db` is this book's own connection (renewals never wait behind the committer); `owner` is unique
  /// per engine start, `node` the name logs and `coworker cluster` show.
  lease_book(std::unique_ptr<store::sql::database> db, std::string owner, std::string node, std::int64_t lease_ms);

  /// Takes the lowest partition that is free — never held, released, expired, or held by a session
  /// the server no longer has (a node killed) — creating a new one when none is: the partition new
  /// chains of this engine go to.
  expected<lease> take_home();
  /// Takes every free partition that still has chains in flight (a dead node's): what to resume.
  expected<std::vector<lease>> take_over();
  /// Extends every lease held; returns the partitions another node took meanwhile: then the node is
  /// fenced (the engine must stop), and check() fails from then on.
  expected<std::vector<int>> renew();
  /// Gives back the partitions other than home that have no chain in flight any more.
  expected<void> release_drained();
  /// Gives back every lease held (a clean stop): another node takes over at once.
  expected<void> release();

  /// In the writer's transaction on `writer`: check_leases for what this book holds, under the book's
  /// lock (a drained partition is not given back between reading the book and the check).
  expected<void> check(store::sql::database& writer) const;

  std::vector<lease> held() const;
  bool holds(int partition) const;
  int home() const;
  const std::string& owner() const { return owner_; }
  const std::string& node() const { return node_; }

 private:
  expected<bool> take(int partition, lease& out);
  std::unique_ptr<store::sql::database> db_;
  const std::string owner_, node_;
  const std::int64_t lease_ms_;
  mutable std::mutex mu_;  // held_ and home_: read by the committer's fence
  std::vector<lease> held_;  // what was lost stays: checks go on failing
  int home_ = -1;
  bool fenced_ = false;
};

/// In the writer's transaction on `db`: locks the lease rows of `owner` (a takeover waits for this
/// transaction to end) and fails unless `held` are all still its own. What fences a node that lost
/// a lease while it was paused: its next write is refused, whatever it believes.
expected<void> check_leases(store::sql::database& db, const std::string& owner, const std::vector<lease>& held);

}  // namespace coworker::cluster

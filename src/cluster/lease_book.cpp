// lease_book: the lease rules of a cluster on PostgreSQL, each one statement (docs/cluster.md,
// "Leases and fencing"). Time is the database's `now()`: nodes need no synchronized clocks.
#include "cluster/lease_book.hpp"

#include <algorithm>

#include "cluster/lease_free.hpp"

namespace coworker::cluster {

namespace sql = store::sql;

namespace {

/// This connection's session, as pg_stat_activity names it.
#define COWORKER_MY_SESSION                                                 \
  "(SELECT a.pid FROM pg_stat_activity a WHERE a.pid = pg_backend_pid()), " \
  "(SELECT a.backend_start FROM pg_stat_activity a WHERE a.pid = pg_backend_pid())"

constexpr int most_partitions_tried = 1000;

}  // namespace

lease_book::lease_book(std::unique_ptr<sql::database> db, std::string owner, std::string node, std::int64_t lease_ms)
    : db_(std::move(db)), owner_(std::move(owner)), node_(std::move(node)), lease_ms_(lease_ms) {
  // A takeover waits for the old owner's open write (its row locks) at most a quarter of a lease,
  // then tries again at the next round: the keeper must go on renewing this node's own leases.
  (void)db_->exec("SET lock_timeout = " + std::to_string(std::max<std::int64_t>(lease_ms_ / 4, 50)));
}

expected<bool> lease_book::take(int partition, lease& out) {
  // A compare-and-set: the row is written only if it is absent or free; two nodes taking the same
  // partition at once meet on its row lock, and the second finds it held.
  auto q = db_->prepare("INSERT INTO leases AS l (partition, owner, node, epoch, expires, backend, backend_start) "
                        "VALUES(?1, ?2, ?3, 1, now() + ?4::bigint * interval '1 millisecond', " COWORKER_MY_SESSION
                        ") ON CONFLICT (partition) DO UPDATE SET owner = excluded.owner, node = excluded.node, "
                        "epoch = l.epoch + 1, expires = excluded.expires, backend = excluded.backend, "
                        "backend_start = excluded.backend_start WHERE " COWORKER_LEASE_FREE " RETURNING epoch");
  if (!q) return db_->failure("prepare a lease");
  q->bind_int(1, partition);
  q->bind_text(2, owner_);
  q->bind_text(3, node_);
  q->bind_int(4, lease_ms_);
  const auto s = q->next();
  if (s == sql::step::failed) return db_->failure("take the lease of partition " + std::to_string(partition));
  if (s == sql::step::done) return false;
  out = lease{partition, q->integer(0)};
  std::lock_guard lock(mu_);
  held_.erase(std::remove_if(held_.begin(), held_.end(), [&](const lease& l) { return l.partition == partition; }),
              held_.end());
  held_.push_back(out);
  return true;
}

expected<lease> lease_book::take_home() {
  for (int tries = 0; tries < most_partitions_tried; ++tries) {
    // The lowest free partition, else one past the highest: another node may take it first (then
    // the next round looks again).
    auto q = db_->prepare("SELECT COALESCE(MIN(l.partition), (SELECT COALESCE(MAX(partition) + 1, 0) FROM leases)) "
                          "FROM leases l WHERE " COWORKER_LEASE_FREE);
    if (!q || q->next() != sql::step::row) return db_->failure("find a free partition");
    const auto p = static_cast<int>(q->integer(0));
    lease got;
    auto taken = take(p, got);
    if (!taken) return taken.error();
    if (*taken) {
      std::lock_guard lock(mu_);
      home_ = p;
      return got;
    }
  }
  return make_error(codes::store_error, "store '" + db_->name() + "': no partition could be taken after " +
                                            std::to_string(most_partitions_tried) + " tries");
}

expected<std::vector<lease>> lease_book::take_over() {
  auto q = db_->prepare("SELECT DISTINCT c.partition FROM chains c JOIN leases l ON l.partition = c.partition "
                        "WHERE c.ended = 0 AND " COWORKER_LEASE_FREE " ORDER BY c.partition");
  if (!q) return db_->failure("prepare the search for orphaned partitions");
  std::vector<int> free;
  for (auto s = q->next(); s != sql::step::done; s = q->next()) {
    if (s == sql::step::failed) return db_->failure("find orphaned partitions");
    free.push_back(static_cast<int>(q->integer(0)));
  }
  std::vector<lease> out;
  for (int p : free) {
    lease got;
    auto taken = take(p, got);
    if (!taken) return taken.error();
    if (*taken) out.push_back(got);
  }
  return out;
}

expected<std::vector<int>> lease_book::renew() {
  auto q = db_->prepare("UPDATE leases SET expires = now() + ?2::bigint * interval '1 millisecond', "
                        "(backend, backend_start) = (" COWORKER_MY_SESSION ") WHERE owner = ?1 RETURNING partition");
  if (!q) return db_->failure("prepare the lease renewal");
  q->bind_text(1, owner_);
  q->bind_int(2, lease_ms_);
  std::vector<int> kept;
  for (auto s = q->next(); s != sql::step::done; s = q->next()) {
    if (s == sql::step::failed) return db_->failure("renew the leases");
    kept.push_back(static_cast<int>(q->integer(0)));
  }
  std::vector<int> lost;
  std::lock_guard lock(mu_);
  for (const auto& l : held_)
    if (std::find(kept.begin(), kept.end(), l.partition) == kept.end()) lost.push_back(l.partition);
  // What was lost stays in the book: the node is fenced, and every check fails from now on.
  if (!lost.empty()) fenced_ = true;
  return lost;
}

expected<void> lease_book::release_drained() {
  // Under mu_ from the book to the database: a writer checking its leases (check_leases) holds the
  // rows it checks until it commits, so the delete waits for it rather than failing its check.
  std::lock_guard lock(mu_);
  auto q = db_->prepare(
      "DELETE FROM leases l WHERE l.owner = ?1 AND l.partition <> ?2 AND NOT EXISTS "
      "(SELECT 1 FROM chains c WHERE c.partition = l.partition AND c.ended = 0) RETURNING l.partition");
  if (!q) return db_->failure("prepare the release of drained partitions");
  q->bind_text(1, owner_);
  q->bind_int(2, home_);
  for (auto s = q->next(); s != sql::step::done; s = q->next()) {
    if (s == sql::step::failed) return db_->failure("release drained partitions");
    const auto p = static_cast<int>(q->integer(0));
    held_.erase(std::remove_if(held_.begin(), held_.end(), [&](const lease& l) { return l.partition == p; }), held_.end());
  }
  return {};
}

expected<void> lease_book::release() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("UPDATE leases SET expires = now() - interval '1 second', backend = NULL WHERE owner = ?1");
  if (!q) return db_->failure("prepare the release of the leases");
  q->bind_text(1, owner_);
  if (!q->run()) return db_->failure("release the leases");
  held_.clear();
  return {};
}

expected<void> lease_book::check(sql::database& writer) const {
  std::lock_guard lock(mu_);
  if (fenced_)
    return make_error(codes::store_error, "store '" + writer.name() + "': this node lost a lease to another node; nothing written");
  return check_leases(writer, owner_, held_);
}

bool lease_book::holds(int partition) const {
  std::lock_guard lock(mu_);
  return std::any_of(held_.begin(), held_.end(), [&](const lease& l) { return l.partition == partition; });
}

std::vector<lease> lease_book::held() const {
  std::lock_guard lock(mu_);
  return held_;
}

int lease_book::home() const {
  std::lock_guard lock(mu_);
  return home_;
}

expected<void> check_leases(sql::database& db, const std::string& owner, const std::vector<lease>& held) {
  auto q = db.prepare("SELECT partition, epoch FROM leases WHERE owner = ?1 FOR SHARE");
  if (!q) return db.failure("prepare the lease check");
  q->bind_text(1, owner);
  std::vector<lease> found;
  for (auto s = q->next(); s != sql::step::done; s = q->next()) {
    if (s == sql::step::failed) return db.failure("check the leases");
    found.push_back(lease{static_cast<int>(q->integer(0)), q->integer(1)});
  }
  for (const auto& l : held)
    if (std::find(found.begin(), found.end(), l) == found.end())
      return make_error(codes::store_error, "store '" + db.name() + "': partition " + std::to_string(l.partition) +
                                                " (epoch " + std::to_string(l.epoch) +
                                                ") is no longer this node's: another node took it over; nothing written");
  return {};
}

}  // namespace coworker::cluster

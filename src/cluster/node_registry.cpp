// node_registry: the `nodes` table beside `leases` (docs/cluster.md, "Finding the nodes").
#include "cluster/node_registry.hpp"

#include "cluster/lease_free.hpp"

namespace coworker::cluster {

namespace sql = store::sql;

node_registry::node_registry(std::unique_ptr<sql::database> db, std::string owner, std::string node)
    : db_(std::move(db)), owner_(std::move(owner)), node_(std::move(node)) {}

expected<void> node_registry::join() {
  std::lock_guard lock(mu_);
  return write_locked();
}

expected<void> node_registry::advertise(const std::string& kind, const std::string& address) {
  std::lock_guard lock(mu_);
  if (address.empty())
    addresses_.erase(kind);
  else
    addresses_[kind] = address;
  return write_locked();
}

expected<void> node_registry::write_locked() {
  auto q = db_->prepare("INSERT INTO nodes (owner, node, addresses) VALUES (?1, ?2, ?3) "
                        "ON CONFLICT (owner) DO UPDATE SET addresses = excluded.addresses");
  if (!q) return db_->failure("prepare this node's row of `nodes`");
  q->bind_text(1, owner_);
  q->bind_text(2, node_);
  q->bind_text(3, dump(addresses_));
  if (!q->run()) return db_->failure("write this node's row of `nodes`");
  // Starts that hold no lease (stopped, killed and taken over) are gone for good: a node restarted
  // is a new owner with a row of its own.
  auto gone = db_->prepare("DELETE FROM nodes n WHERE NOT EXISTS (SELECT 1 FROM leases l WHERE l.owner = n.owner)");
  if (!gone || !gone->run()) return db_->failure("delete the rows of `nodes` of stopped nodes");
  return {};
}

expected<std::vector<node_entry>> node_registry::alive() {
  std::lock_guard lock(mu_);
  // Several live starts of one name (a node restarted while its old start's lease has not expired
  // yet): the newest row, which is the running one.
  auto q = db_->prepare("SELECT DISTINCT ON (n.node) n.node, n.addresses, n.owner FROM nodes n WHERE EXISTS "
                        "(SELECT 1 FROM leases l WHERE l.owner = n.owner AND NOT " COWORKER_LEASE_FREE
                        ") ORDER BY n.node, n.since DESC");
  if (!q) return db_->failure("prepare the search for live nodes");
  std::vector<node_entry> out;
  for (auto s = q->next(); s != sql::step::done; s = q->next()) {
    if (s == sql::step::failed) return db_->failure("find the live nodes");
    node_entry e{q->text(0), json::parse(q->text(1), nullptr, false), q->text(2) == owner_};
    if (!e.addresses.is_object()) e.addresses = json::object();  // written by hand: no addresses
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace coworker::cluster

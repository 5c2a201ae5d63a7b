// node_registry: where each node of a cluster can be reached (docs/cluster.md, "Finding the nodes").
// Each node writes one row of `nodes` for its start (its owner): its name and the addresses it
// advertises — its web view's URL, its ZeroMQ endpoints. A node is alive while it holds a lease,
// so the live nodes are read from the two tables together and no row needs a heartbeat of its own;
// rows of starts that hold no lease any more are deleted when a node advertises. What a web page
// following the whole cluster opens, and whom a node lets read its events from another origin.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/json.hpp"
#include "store/database.hpp"

namespace coworker::cluster {

/// A live node: its name (the `stream` of its events), its addresses by kind ("http", "requests",
/// "events", "workers") and whether it is the one asking.
struct node_entry {
  std::string node;
  json addresses = json::object();
  bool self = false;
};

class node_registry {
 public:
  /// `db` is the registry's own connection (it is read from HTTP threads, never inside a write).
  node_registry(std::unique_ptr<store::sql::database> db, std::string owner, std::string node);

  /// Writes this node's row, with no address yet: listed from now on.
  expected<void> join();
  /// Writes this node's row with `address` for `kind` added to what it advertised before (an empty
  /// address takes the kind out), and deletes the rows of starts that hold no lease any more.
  expected<void> advertise(const std::string& kind, const std::string& address);
  /// The nodes holding a lease now, by name; each once (its latest start).
  expected<std::vector<node_entry>> alive();

 private:
  expected<void> write_locked();
  std::mutex mu_;  // the connection and addresses_
  std::unique_ptr<store::sql::database> db_;
  const std::string owner_, node_;
  json addresses_ = json::object();
};

}  // namespace coworker::cluster

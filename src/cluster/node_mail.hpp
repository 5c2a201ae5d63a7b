// node_mail: how a node reaches the node that runs a chain (docs/cluster.md, "Any node answers"):
// a request about a chain this node does not run (a cancel) is looked up in the store — its
// partition's lease names the owner — and sent there with PostgreSQL's NOTIFY on one channel that
// every node LISTENs to; each node takes what is addressed to it. A thread of its own receives.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "coworker/error.hpp"
#include "coworker/json.hpp"
#include "store/database.hpp"
#include "store/postgresql_database.hpp"

namespace coworker::cluster {

/// Where a run's chain is: the owner of its partition's lease (empty when no node holds it: its node
/// died and nobody has taken it over yet) and that node's name.
struct run_owner {
  std::string owner, node;
};

class node_mail {
 public:
  /// `sender` sends and looks up (its own connection); `listener` LISTENs on `channel` from now on.
  node_mail(std::unique_ptr<store::sql::database> sender, std::unique_ptr<store::sql::notification_listener> listener,
            std::string owner);
  /// From now on `receive` gets every message addressed to `owner`, on the mail's thread (what came
  /// before waits in the listening session: the engine starts receiving once it can act on it).
  void start(std::function<void(const json&)> receive);
  ~node_mail();  ///< stops the thread (no receive runs after it returns)
  node_mail(const node_mail&) = delete;
  node_mail& operator=(const node_mail&) = delete;

  /// The owner of the chain of run `run_id`, as the store has it; nullopt when the store has no such run.
  expected<std::optional<run_owner>> owner_of(const std::string& run_id);
  /// Sends `message` to the node `to` (an owner, or `everyone`): it gets it with "to" and "from" set.
  expected<void> send(const std::string& to, json message);

  /// The address of a message for every node but its sender.
  static constexpr const char* everyone = "*";
  /// The channel every node LISTENs on.
  static constexpr const char* channel = "coworker_nodes";

 private:
  std::unique_ptr<store::sql::database> sender_;
  std::mutex sender_mu_;
  std::unique_ptr<store::sql::notification_listener> listener_;
  const std::string owner_;
  std::function<void(const json&)> receive_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace coworker::cluster

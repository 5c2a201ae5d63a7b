// node_mail: how a node reaches the node that runs a chain (docs/cluster.md, "Any node answers"):
// a request about a chain this node does not run (a cancel) is looked up in the store — its
// partition's lease names the owner — and sent there with PostgreSQL's NOTIFY on one channel that
// every node LISTENs to; each node takes what is addressed to it (or to every node). A question
// (`ask`) waits for its answer, which comes back the same way. A thread of its own receives.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

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
  /// At most `max_message_bytes` as JSON (PostgreSQL's NOTIFY takes under 8,000): invalid_input past it.
  expected<void> send(const std::string& to, json message);
  /// Sends `message` to the node `to` and waits up to `timeout` for its answer (the other node's
  /// `answer_later`); timeout when none comes.
  expected<json> ask(const std::string& to, json message, std::chrono::milliseconds timeout);
  /// Sends `message` to `to` (`everyone`: each node may answer) and gathers the answers until
  /// `enough(answers)` holds or `timeout` has passed: what came by then, in the order it came.
  expected<std::vector<json>> ask_many(const std::string& to, json message, std::chrono::milliseconds timeout,
                                       const std::function<bool(const std::vector<json>&)>& enough);
  /// How to answer `question` (a message received with "ask"), later and from any thread, even once
  /// this mail is gone (it keeps the sending connection alive).
  std::function<void(json reply)> answer_later(const json& question);

  static constexpr std::size_t max_message_bytes = 7900;
  /// The address of a message for every node but its sender.
  static constexpr const char* everyone = "*";
  /// The channel every node LISTENs on.
  static constexpr const char* channel = "coworker_nodes";

 private:
  /// The connection that sends (and looks up), shared with answers still to be sent.
  struct outbox {
    std::unique_ptr<store::sql::database> db;
    std::mutex mu;
    std::string owner;
    expected<void> send(const std::string& to, json message);
  };
  std::shared_ptr<outbox> out_;
  std::unique_ptr<store::sql::notification_listener> listener_;
  const std::string owner_;
  std::function<void(const json&)> receive_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex asked_mu_;  // questions waiting for their answer, by number
  std::condition_variable answered_;
  std::uint64_t next_question_ = 1;
  std::map<std::uint64_t, std::vector<json>> asked_;  // the answers so far
};

}  // namespace coworker::cluster

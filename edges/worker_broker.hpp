// The worker broker (docs/protocol.md, "Workers"): remote programs connect with DEALER to a ROUTER socket,
// announce the operations they serve and how many tasks they take at once, receive tasks and
// answer them, and heartbeat. Their operations become engine operations while someone serves them.
// The broker lives on the service's gateway thread (it owns the socket); engine handlers hand it
// tasks through a queue. Protocol: docs/protocol.md, "Workers".
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include <zmq.hpp>

#include "coworker/engine.hpp"
#include "protocol/worker_frame.hpp"

namespace coworker {

/// Tasks waiting for a worker, over all operations; past it a step fails with `busy`.
inline constexpr std::size_t max_queued_tasks = 100000;

class worker_broker {
 public:
  /// `ring` wakes the gateway thread when a task is queued from an engine handler.
  /// `routed`: built-in operations (e.g. summarize) that workers may take over while they serve
  /// them; the built-in comes back when the last such worker leaves.
  worker_broker(engine& eng, zmq::context_t& ctx, std::function<void()> ring,
                std::chrono::milliseconds heartbeat = std::chrono::milliseconds(1000),
                std::set<std::string> routed = {});
  ~worker_broker();

  expected<void> bind(const std::string& endpoint);
  std::string endpoint() const { return endpoint_; }
  zmq::socket_t& socket() { return sock_; }

  /// Gateway thread: a message from a worker is waiting.
  void on_message();
  /// Gateway thread: hand queued tasks to workers, fail expired ones, drop silent workers.
  void tick();
  /// Gateway thread: fail everything pending (shutdown) and unregister the operations.
  void close();
  /// Gateway thread: workers connected, tasks they hold, tasks waiting for one (for /metrics).
  std::size_t worker_count() const { return workers_.size(); }
  std::size_t tasks_queued() const { return queue_.size(); }
  std::size_t tasks_running() const { return tasks_.size() > queue_.size() ? tasks_.size() - queue_.size() : 0; }

  struct task {
    std::string id;
    std::string op;
    std::string run_id;
    value_ptr input;
    std::int64_t deadline = 0;
    responder reply;
    std::string worker;  ///< empty while queued
    int attempt = 1;     ///< the run's attempt
    std::string traceparent;  ///< a traced chain's step (docs/tracing.md); empty: not sent
  };

 private:
  struct worker_state {
    std::set<std::string> ops;
    int capacity = 1;
    std::set<std::string> tasks;
    std::chrono::steady_clock::time_point last_seen;
  };
  void send(const std::string& identity, const json& msg);
  void handle(const std::string& identity, std::vector<zmq::message_t>& frames);
  void hello(const std::string& identity, const protocol::worker_hello& msg);
  void answer(const std::string& identity, const std::string& task_id, expected<json> outcome);
  void send_error(const std::string& identity, const error& e);
  /// One worker fewer serves `name`; the last one gone removes it (or brings the built-in back).
  void release_op(const std::string& name);
  void drop_worker(const std::string& identity, const std::string& why);
  void register_op(const std::string& name, const json& schema);
  void dispatch();
  void restore(const std::string& op);
  void fail(task& t, const std::string& code, const std::string& message);

  engine& eng_;
  zmq::socket_t sock_;
  std::function<void()> ring_;
  std::chrono::milliseconds heartbeat_;
  std::string endpoint_;
  std::unordered_map<std::string, worker_state> workers_;
  std::unordered_map<std::string, int> served_;  ///< operation → workers serving it
  std::set<std::string> registered_;              ///< operations this broker added to the engine
  std::set<std::string> routed_;
  std::unordered_map<std::string, operation> replaced_;  ///< built-ins taken over, to restore
  std::unordered_map<std::string, task> tasks_;  ///< by task id, queued or out
  std::deque<std::string> queue_;                ///< task ids waiting for a worker

  // Filled by engine handlers on actor threads.
  struct shared {
    std::mutex mu;
    std::deque<task> incoming;
    bool open = true;
  };
  std::shared_ptr<shared> shared_;
  std::uint64_t next_task_ = 0;
};

}  // namespace coworker

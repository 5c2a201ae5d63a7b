// coworker::remote_worker: serve operations to a `coworker serve` daemon from another C++ program
// (the worker protocol of docs/protocol.md: hello, tasks, results, heartbeats).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/json.hpp"
#include "coworker/operation.hpp"

namespace coworker {

struct worker_config {
  std::string endpoint = "tcp://127.0.0.1:5572";
  /// In a cluster (docs/cluster.md, "Workers"): every node's workers endpoint, each served over a
  /// socket of its own; when set, `endpoint` is not used.
  std::vector<std::string> endpoints;
  std::chrono::milliseconds heartbeat{1000};
  /// CURVE (docs/security.md): the daemon's public key and this worker's secret key, Z85; both
  /// empty: plain. The worker's public key must be in the daemon's allow-list.
  std::string curve_server_key;
  std::string curve_secret_key;
};

class remote_worker {
 public:
  explicit remote_worker(worker_config cfg = {}) : cfg_(std::move(cfg)) {}

  /// Serves `name` with `fn` (called with the task's input; an error value becomes an error answer).
  void serve(std::string name, sync_handler fn, json input_schema = nullptr);

  /// Connects (to every endpoint), says hello, and answers tasks one at a time until stop() is called
  /// (from any thread or a handler). Returns tasks served, or an error when a daemon refuses the worker.
  expected<std::size_t> run();
  void stop() { stop_ = true; }

 private:
  struct entry {
    sync_handler fn;
    json schema;
  };
  /// The answer to a task: its result, or an error.
  json answer(const std::string& task_id, const std::string& operation, const std::string& run_id, int attempt,
              const json& task);
  worker_config cfg_;
  std::map<std::string, entry> ops_;
  std::atomic<bool> stop_{false};
};

}  // namespace coworker

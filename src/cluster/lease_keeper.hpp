// lease_keeper: the thread that keeps a node's leases (docs/cluster.md, "Leases and fencing"). Every
// leaseMs/3 it renews what the book holds, takes over the partitions of dead nodes, and gives back
// drained ones. It tells the engine through two callbacks: partitions taken (resume their chains)
// and leases lost (stop: the node is fenced). The rules are the book's (lease_book.hpp). A second
// thread watches the keeper's calls to the database: one that hangs (the database cut off by the
// network, a call that does not return) still fences the node once a whole lease has passed since
// the last renewal, as a renewal that fails does.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cluster/lease_book.hpp"

namespace coworker::cluster {

struct keeper_hooks {
  std::function<void(const std::vector<lease>&)> taken;
  /// Called once, from the keeper's thread or its watchdog's; the keeper stops after it.
  std::function<void(const std::string& why)> lost;
  std::function<void(std::string_view level, std::string_view text)> log;
};

class lease_keeper {
 public:
  lease_keeper(lease_book& book, std::chrono::milliseconds lease, keeper_hooks hooks);
  ~lease_keeper();  ///< stops the threads (no callback runs after it returns; waits for a renewal in progress)
  lease_keeper(const lease_keeper&) = delete;
  lease_keeper& operator=(const lease_keeper&) = delete;

 private:
  void loop();
  void watch();
  /// One round; false once the node is fenced.
  bool round(bool& failing);
  /// hooks_.lost, once whoever calls it first; false when it was called already.
  bool lose(const std::string& why);
  /// A call of the book, marked as in progress for the watchdog.
  template <class F>
  auto call(F f);
  lease_book& book_;
  const std::chrono::milliseconds lease_;
  keeper_hooks hooks_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool lost_ = false;                            // guarded by mu_
  std::chrono::steady_clock::time_point renewed_;  // guarded by mu_: when the last renewal began
  std::optional<std::chrono::steady_clock::time_point> calling_;  // guarded by mu_: a call of the book since
  std::thread thread_, watchdog_;
};

}  // namespace coworker::cluster

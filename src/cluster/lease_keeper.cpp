// lease_keeper: renew, take over, give back, every leaseMs/3 (docs/cluster.md, "Leases and fencing").
#include "cluster/lease_keeper.hpp"

namespace coworker::cluster {

lease_keeper::lease_keeper(lease_book& book, std::chrono::milliseconds lease, keeper_hooks hooks)
    : book_(book), lease_(lease), hooks_(std::move(hooks)) {
  thread_ = std::thread([this] { loop(); });
}

lease_keeper::~lease_keeper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void lease_keeper::loop() {
  auto renewed = std::chrono::steady_clock::now();
  bool failing = false;
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, lease_ / 3, [this] { return stop_; });
    if (stop_) return;
    lock.unlock();
    const bool go_on = round(renewed, failing);
    lock.lock();
    if (!go_on) return;
  }
}

bool lease_keeper::round(std::chrono::steady_clock::time_point& renewed, bool& failing) {
  const auto started = std::chrono::steady_clock::now();
  auto lost = book_.renew();
  if (!lost) {
    // Unreachable for a whole lease: another node may hold our partitions by now. Stop running
    // steps rather than run them twice; the store refuses our writes anyway (check_leases).
    if (started - renewed >= lease_) {
      hooks_.lost("no lease renewed for " + std::to_string(lease_.count()) + " ms (" + lost.error().message + ")");
      return false;
    }
    if (!failing) hooks_.log("error", "cannot renew the leases, retrying: " + lost.error().message);
    failing = true;
    return true;
  }
  if (failing) hooks_.log("info", "leases renewed again");
  failing = false;
  renewed = started;
  if (!lost->empty()) {
    std::string which;
    for (int p : *lost) which += (which.empty() ? "" : ", ") + std::to_string(p);
    hooks_.lost("partition " + which + " was taken over by another node");
    return false;
  }
  if (auto taken = book_.take_over(); !taken) {
    hooks_.log("error", "cannot look for partitions to take over: " + taken.error().message);
  } else if (!taken->empty()) {
    hooks_.taken(*taken);
  }
  if (auto r = book_.release_drained(); !r) hooks_.log("error", r.error().message);
  return true;
}

}  // namespace coworker::cluster

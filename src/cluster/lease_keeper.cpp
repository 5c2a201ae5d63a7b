// lease_keeper: renew, take over, give back, every leaseMs/3 (docs/cluster.md, "Leases and fencing").
#include "cluster/lease_keeper.hpp"

#include "core/thread_name.hpp"

namespace coworker::cluster {

lease_keeper::lease_keeper(lease_book& book, std::chrono::milliseconds lease, keeper_hooks hooks)
    : book_(book), lease_(lease), hooks_(std::move(hooks)), renewed_(std::chrono::steady_clock::now()) {
  thread_ = std::thread([this] {
    name_thread("cw-leases");
    loop();
  });
  watchdog_ = std::thread([this] {
    name_thread("cw-lease-watch");
    watch();
  });
}

lease_keeper::~lease_keeper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  watchdog_.join();
  thread_.join();
}

void lease_keeper::loop() {
  bool failing = false;
  std::unique_lock lock(mu_);
  while (!stop_ && !lost_) {
    cv_.wait_for(lock, lease_ / 3, [this] { return stop_ || lost_; });
    if (stop_ || lost_) return;
    lock.unlock();
    const bool go_on = round(failing);
    lock.lock();
    if (!go_on) return;
  }
}

template <class F>
auto lease_keeper::call(F f) {
  {
    std::lock_guard lock(mu_);
    calling_ = std::chrono::steady_clock::now();
  }
  auto r = f();
  std::lock_guard lock(mu_);
  calling_.reset();
  return r;
}

void lease_keeper::watch() {
  std::unique_lock lock(mu_);
  while (!stop_ && !lost_) {
    cv_.wait_for(lock, lease_ / 10, [this] { return stop_ || lost_; });
    if (stop_ || lost_) return;
    // Between calls the keeper judges for itself (a failed renewal past the lease fences the node;
    // one that succeeds shows nobody took over). A call that has not returned for a third of a
    // lease, past a whole lease since the last renewal, is one it cannot judge: another node may
    // hold our partitions by now.
    const auto now = std::chrono::steady_clock::now();
    const auto since = now - renewed_;
    if (!calling_ || now - *calling_ < lease_ / 3 || since < lease_) continue;
    // Decided under the lock: a call that returns from now on finds the node fenced (round), and
    // one that returned before was seen as returned here.
    lost_ = true;
    lock.unlock();
    cv_.notify_all();
    hooks_.lost("no lease renewed for " +
                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(since).count()) +
                " ms (a call to the database has not returned)");
    return;
  }
}

bool lease_keeper::lose(const std::string& why) {
  {
    std::lock_guard lock(mu_);
    if (lost_) return false;
    lost_ = true;
  }
  cv_.notify_all();
  hooks_.lost(why);
  return true;
}

bool lease_keeper::round(bool& failing) {
  const auto started = std::chrono::steady_clock::now();
  auto lost = call([this] { return book_.renew(); });
  std::chrono::steady_clock::time_point renewed;
  {
    std::lock_guard lock(mu_);
    if (lost_) return false;  // the watchdog fenced the node while this renewal hung
    if (lost) renewed_ = started;
    renewed = renewed_;
  }
  if (!lost) {
    // Unreachable for a whole lease: another node may hold our partitions by now. Stop running
    // steps rather than run them twice; the store refuses our writes anyway (check_leases).
    if (started - renewed >= lease_) {
      lose("no lease renewed for " + std::to_string(lease_.count()) + " ms (" + lost.error().message + ")");
      return false;
    }
    if (!failing) hooks_.log("error", "cannot renew the leases, retrying: " + lost.error().message);
    failing = true;
    return true;
  }
  if (failing) hooks_.log("info", "leases renewed again");
  failing = false;
  if (!lost->empty()) {
    std::string which;
    for (int p : *lost) which += (which.empty() ? "" : ", ") + std::to_string(p);
    lose("partition " + which + " was taken over by another node");
    return false;
  }
  if (auto taken = call([this] { return book_.take_over(); }); !taken) {
    hooks_.log("error", "cannot look for partitions to take over: " + taken.error().message);
  } else if (!taken->empty()) {
    hooks_.taken(*taken);
  }
  if (auto r = call([this] { return book_.release_drained(); }); !r) hooks_.log("error", r.error().message);
  return true;
}

}  // namespace coworker::cluster

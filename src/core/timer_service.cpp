// timer_service: a heap of deadlines served by one thread.
#include "core/timer_service.hpp"

#include <algorithm>

#include "core/thread_name.hpp"

namespace coworker {

timer_service::timer_service()
    : thread_([this] {
        name_thread("cw-timers");
        loop();
      }) {}

timer_service::~timer_service() { stop(); }

void timer_service::stop() {
  std::unordered_map<id, std::function<void()>> dropped;  // destroyed outside the lock
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    dropped.swap(fns_);
    heap_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

timer_service::id timer_service::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  bool earliest = false;
  id t = 0;
  {
    std::lock_guard lock(mu_);
    t = ++order_;
    if (stop_) return t;  // stopped: `fn` is dropped here, while what it holds still exists
    heap_.push_back(entry{std::chrono::steady_clock::now() + delay, t});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>{});
    fns_.emplace(t, std::move(fn));
    earliest = heap_.front().order == t;
  }
  if (earliest) cv_.notify_one();  // the thread sleeps until the earliest deadline: wake it only for a new one
  return t;
}

void timer_service::cancel(id timer) {
  std::function<void()> dropped;  // destroyed outside the lock: it may hold anything
  std::lock_guard lock(mu_);
  auto it = fns_.find(timer);
  if (it == fns_.end()) return;
  dropped = std::move(it->second);
  fns_.erase(it);
  // A cancelled deadline stays in the heap until it comes up; when they are most of it, sweep.
  if (++cancelled_in_heap_ > 1024 && cancelled_in_heap_ * 2 > heap_.size()) {
    std::erase_if(heap_, [this](const entry& e) { return !fns_.count(e.order); });
    std::make_heap(heap_.begin(), heap_.end(), std::greater<>{});
    cancelled_in_heap_ = 0;
  }
}

std::size_t timer_service::pending() const {
  std::lock_guard lock(mu_);
  return fns_.size();
}

void timer_service::loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (heap_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto when = heap_.front().when;
    if (std::chrono::steady_clock::now() < when) {
      cv_.wait_until(lock, when);
      continue;
    }
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>{});
    auto t = heap_.back().order;
    heap_.pop_back();
    auto it = fns_.find(t);
    if (it == fns_.end()) {  // cancelled
      if (cancelled_in_heap_ > 0) --cancelled_in_heap_;
      continue;
    }
    auto fn = std::move(it->second);
    fns_.erase(it);
    lock.unlock();
    fn();
    fn = nullptr;  // what it held goes before the lock is taken again
    lock.lock();
  }
}

}  // namespace coworker

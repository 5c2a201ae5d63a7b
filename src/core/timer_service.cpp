// timer_service: a heap of deadlines served by one thread.
#include "core/timer_service.hpp"

#include <algorithm>

namespace coworker {

timer_service::timer_service() : thread_([this] { loop(); }) {}

timer_service::~timer_service() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void timer_service::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    heap_.push_back(entry{std::chrono::steady_clock::now() + delay, order_++, std::move(fn)});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>{});
  }
  cv_.notify_one();
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
    auto fn = std::move(heap_.back().fn);
    heap_.pop_back();
    lock.unlock();
    fn();
    lock.lock();
  }
}

}  // namespace coworker

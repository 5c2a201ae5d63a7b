// thread_pool and timer_service.
#include "core/thread_pool.hpp"

#include <algorithm>

namespace coworker {

thread_pool::thread_pool(std::size_t threads) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i) threads_.emplace_back([this] { loop(); });
}

thread_pool::~thread_pool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void thread_pool::post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void thread_pool::loop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

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

// Runs callbacks after a delay on one thread of its own (the `wait` operation, the run actors'
// attempt timeouts, retries and drains). A timer can be cancelled: its callback, and what it
// holds, is dropped at once, not when it would have fired.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace coworker {

class timer_service {
 public:
  timer_service();
  ~timer_service();  ///< stop()
  /// Stops the thread and drops what has not fired; after it, after() keeps nothing and cancel()
  /// does nothing, so actors still finishing may use the service until it is destroyed.
  void stop();
  timer_service(const timer_service&) = delete;
  timer_service& operator=(const timer_service&) = delete;

  using id = std::uint64_t;
  /// Calls `fn` on the timer thread after `delay`; returns the timer's id (never 0).
  id after(std::chrono::milliseconds delay, std::function<void()> fn);
  /// Drops the timer's callback if it has not fired (nothing happens for an id that fired).
  void cancel(id timer);
  std::size_t pending() const;  ///< timers not fired nor cancelled

 private:
  struct entry {
    std::chrono::steady_clock::time_point when;
    id order;
    bool operator>(const entry& o) const { return when != o.when ? when > o.when : order > o.order; }
  };
  void loop();
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<entry> heap_;                         ///< deadlines, cancelled ones included
  std::unordered_map<id, std::function<void()>> fns_;  ///< the timers not fired nor cancelled
  std::size_t cancelled_in_heap_ = 0;
  id order_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace coworker

// Runs callbacks after a delay on one thread of its own (the `wait` operation, handler timers).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace coworker {

class timer_service {
 public:
  timer_service();
  ~timer_service();  ///< drops what has not fired
  timer_service(const timer_service&) = delete;
  timer_service& operator=(const timer_service&) = delete;

  void after(std::chrono::milliseconds delay, std::function<void()> fn);

 private:
  struct entry {
    std::chrono::steady_clock::time_point when;
    std::uint64_t order;
    std::function<void()> fn;
    bool operator>(const entry& o) const { return when != o.when ? when > o.when : order > o.order; }
  };
  void loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<entry> heap_;
  std::uint64_t order_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace coworker

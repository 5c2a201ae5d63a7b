// The pool of threads for handlers that block (I/O, the store), off the actor scheduler.
//
// A handler may block far longer than it should, or forever. The pool contains that: when a task
// has waited in the queue longer than `stuck_after` because every thread is busy, a supervisor adds
// a thread (up to `max_threads`), so stuck handlers cost a thread each but never stop the others;
// threads added this way leave after 10 s without work. On destruction, tasks not yet started are
// dropped, running ones get `grace` to return, and threads still stuck after that are left behind
// (detached; they hold only the pool's shared state).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <thread>

namespace coworker {

class thread_pool {
 public:
  explicit thread_pool(std::size_t threads, std::size_t max_threads = 0,
                       std::chrono::milliseconds stuck_after = std::chrono::milliseconds(500),
                       std::chrono::milliseconds grace = std::chrono::seconds(2));
  ~thread_pool();
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  void post(std::function<void()> task);

  struct state;

 private:
  std::shared_ptr<state> st_;
  std::thread supervisor_;
  std::chrono::milliseconds grace_;
};

}  // namespace coworker

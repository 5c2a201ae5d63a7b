// thread_pool: core threads, a supervisor that adds threads when every one is stuck, bounded shutdown.
#include "core/thread_pool.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "core/thread_name.hpp"

namespace coworker {

using clock_type = std::chrono::steady_clock;

struct thread_pool::state {
  struct queued {
    std::function<void()> fn;
    clock_type::time_point since;
  };
  std::mutex mu;
  std::condition_variable work_cv;   // workers: a task, or stop
  std::condition_variable watch_cv;  // the supervisor: stop
  std::condition_variable done_cv;   // the destructor: a thread ended
  std::deque<queued> tasks;
  std::size_t max_threads = 0;
  std::size_t live = 0;
  std::size_t idle = 0;
  bool stop = false;
  std::chrono::milliseconds stuck_after{500};
};

namespace {

void run_worker(std::shared_ptr<thread_pool::state> st, bool extra) {
  name_thread("cw-blocking");
  std::unique_lock lock(st->mu);
  for (;;) {
    ++st->idle;
    auto ready = [&] { return st->stop || !st->tasks.empty(); };
    bool woke = true;
    if (extra)
      woke = st->work_cv.wait_for(lock, std::chrono::seconds(10), ready);
    else
      st->work_cv.wait(lock, ready);
    --st->idle;
    if (st->stop || !woke) break;
    auto task = std::move(st->tasks.front().fn);
    st->tasks.pop_front();
    lock.unlock();
    try {
      task();
    } catch (...) {
      // A task is a handler call wrapped by its caller, which reports failures; never lose the thread.
    }
    task = nullptr;  // what the task captured is released outside the lock
    lock.lock();
  }
  --st->live;
  st->done_cv.notify_all();
}

void supervise(std::shared_ptr<thread_pool::state> st) {
  name_thread("cw-blocking-sup");
  std::unique_lock lock(st->mu);
  while (!st->stop) {
    // It looks twice per stuck_after: cheaper than a notification on every post.
    if (st->tasks.empty() || st->idle > 0) {
      st->watch_cv.wait_for(lock, st->stuck_after / 2);
      continue;
    }
    auto waited = clock_type::now() - st->tasks.front().since;
    if (waited >= st->stuck_after && st->live < st->max_threads) {
      ++st->live;
      std::thread(run_worker, st, true).detach();
      // Give the new thread time to take a task before judging the queue again.
      st->watch_cv.wait_for(lock, std::chrono::milliseconds(10));
      continue;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(st->stuck_after - waited);
    st->watch_cv.wait_for(lock, std::max(left, std::chrono::milliseconds(10)));
  }
}

}  // namespace

thread_pool::thread_pool(std::size_t threads, std::size_t max_threads, std::chrono::milliseconds stuck_after,
                         std::chrono::milliseconds grace)
    : st_(std::make_shared<state>()) {
  threads = std::max<std::size_t>(threads, 1);
  st_->max_threads = max_threads ? std::max(max_threads, threads) : std::max<std::size_t>(64, 4 * threads);
  st_->stuck_after = stuck_after;
  grace_ = grace;
  st_->live = threads;
  for (std::size_t i = 0; i < threads; ++i) std::thread(run_worker, st_, false).detach();
  supervisor_ = std::thread(supervise, st_);
}

thread_pool::~thread_pool() {
  std::deque<state::queued> dropped;
  {
    std::lock_guard lock(st_->mu);
    st_->stop = true;
    dropped.swap(st_->tasks);  // their runs have ended (the engine cancels before it stops the pool)
  }
  st_->work_cv.notify_all();
  st_->watch_cv.notify_all();
  supervisor_.join();
  dropped.clear();
  std::unique_lock lock(st_->mu);
  st_->done_cv.wait_for(lock, grace_, [&] { return st_->live == 0; });
}

void thread_pool::post(std::function<void()> task) {
  {
    std::lock_guard lock(st_->mu);
    st_->tasks.push_back(state::queued{std::move(task), clock_type::now()});
  }
  st_->work_cv.notify_one();
}

}  // namespace coworker

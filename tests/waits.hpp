// Waiting in tests: a test waits for something to happen (an engine event, a handler arriving, a
// gate a handler blocks on), never for time. Every wait is bounded by a generous safety timeout so
// that a test fails, instead of hanging, when the thing never happens; reaching it means a hang,
// not a slow machine. No test asserts how long anything took (speed lives in bench/).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <utility>

#include "coworker/coworker.hpp"

namespace coworker::test {

/// How long a test waits for something that must happen before it fails.
inline constexpr std::chrono::milliseconds safety_timeout{std::chrono::seconds(60)};

/// Closed until open(); wait() blocks until then, or returns false at the limit.
class gate {
 public:
  void open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds limit = safety_timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

/// Counts arrivals: arrive() returns the arrival's number (1, 2, ...); wait_for(n) blocks until n
/// have arrived, or returns false at the limit.
class arrivals {
 public:
  int arrive() {
    int k = 0;
    {
      std::lock_guard lock(mu_);
      k = ++n_;
    }
    cv_.notify_all();
    return k;
  }
  int count() const {
    std::lock_guard lock(mu_);
    return n_;
  }
  bool wait_for(int n, std::chrono::milliseconds limit = safety_timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return n_ >= n; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int n_ = 0;
};

/// Counts the engine's events (engine::subscribe) that `match`, from its construction on.
class event_counter {
 public:
  event_counter(engine& eng, std::function<bool(const event&)> match) : match_(std::move(match)) {
    sub_ = eng.subscribe([this](const event& e) {
      if (match_(e)) hits_.arrive();
    });
  }
  event_counter(const event_counter&) = delete;
  event_counter& operator=(const event_counter&) = delete;
  bool wait_for(int n, std::chrono::milliseconds limit = safety_timeout) { return hits_.wait_for(n, limit); }
  int count() const { return hits_.count(); }

 private:
  std::function<bool(const event&)> match_;
  arrivals hits_;
  subscription sub_;  // last: ended (and its calls finished) before what the callback uses
};

/// True for the before:run event of a run of `step_id`.
inline std::function<bool(const event&)> started_step(std::string step_id) {
  return [id = std::move(step_id)](const event& e) { return e.kind == event_kind::before_run && e.run->step_id == id; };
}

/// Returns once every subscriber (engine::subscribe) has been handed every event published before
/// the call: dropping a subscription waits for that.
inline void drain_subscribers(engine& eng) {
  auto s = eng.subscribe([](const event&) {});
}

/// The error of `r` as "code: message", or "" when it holds a value (for failure messages, which
/// Boost.Test may also print for passing checks).
template <class T>
std::string error_text(const expected<T>& r) {
  return r ? std::string() : r.error().code + ": " + r.error().message;
}

/// Runs `fn` when the scope ends, however it ends (a failed BOOST_REQUIRE throws).
class at_scope_exit {
 public:
  explicit at_scope_exit(std::function<void()> fn) : fn_(std::move(fn)) {}
  ~at_scope_exit() { fn_(); }
  at_scope_exit(const at_scope_exit&) = delete;
  at_scope_exit& operator=(const at_scope_exit&) = delete;

 private:
  std::function<void()> fn_;
};

}  // namespace coworker::test

// Callback subscriptions (engine::subscribe): one thread for all of them, reading the event log
// through one cursor. A slow callback delays the other callbacks and grows the log; it never
// stalls runs, the committer, or the gateways, which read the log with cursors of their own.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/event_log.hpp"

namespace coworker {

class event_dispatcher {
 public:
  using callback = std::function<void(const event&)>;

  explicit event_dispatcher(event_log& log);
  ~event_dispatcher();  ///< stop()
  /// Delivers what is durable, then ends the thread; later subscriptions get nothing. A callback
  /// that calls into CAF (spawns a run) leaves CAF state in its thread, which an actor system
  /// waits for when it is destroyed: the engine stops delivery before its actor system.
  void stop();
  event_dispatcher(const event_dispatcher&) = delete;
  event_dispatcher& operator=(const event_dispatcher&) = delete;

  /// `fn` receives every event made durable after this call, in seq order, on the dispatcher's thread.
  std::uint64_t subscribe(callback fn);
  /// What was durable before the call still reaches the subscriber; once this returns, `fn` is
  /// not running and will not run again. Callable from inside the callback.
  void unsubscribe(std::uint64_t id);
  std::size_t count() const;
  /// Waits until every event durable at the call has been delivered (or the dispatcher stopped).
  void flush();

 private:
  struct sub {
    std::uint64_t id;
    std::uint64_t after;  ///< delivers events with a larger seq
    callback fn;
    std::mutex call_mu;   ///< held while fn runs
    bool active = true;   ///< under call_mu
  };
  void loop();
  bool on_thread() const { return std::this_thread::get_id() == thread_id_.load(); }

  event_log& log_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // the dispatcher sleeps here
  std::condition_variable done_cv_;  // flush() sleeps here
  std::vector<std::shared_ptr<sub>> subs_;
  std::uint64_t next_id_ = 1;
  std::uint64_t cursor_ = 0;
  std::uint64_t delivered_ = 0;
  bool woken_ = false;
  bool stop_ = false;
  bool stopped_ = false;  ///< stop() ran: no thread is started again
  bool sleeping_ = false;
  int flushers_ = 0;
  std::thread thread_;
  std::atomic<std::thread::id> thread_id_{};
};

}  // namespace coworker

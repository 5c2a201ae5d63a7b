// The replay buffer behind /api/events (Server-Sent Events, docs/web.md): the last events in seq
// order, so a browser that reconnects with Last-Event-ID gets what it missed, or is told to resync
// (reload its view from a snapshot) when that is no longer here. Fed by one engine subscription;
// read by any number of streams, each on its own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "core/event_text.hpp"
#include "coworker/event.hpp"

namespace coworker::protocol {

class event_buffer {
 public:
  /// `floor`: the engine's seq when the buffer subscribed; older events were never here.
  explicit event_buffer(std::size_t capacity, std::uint64_t floor = 0);

  /// The subscription thread: O(1), never waits for readers.
  void push(const event& e);
  /// Wakes every reader; reads then answer `closed`.
  void close();

  enum class status { events, resync, timeout, closed };
  struct batch {
    status st = status::timeout;
    std::vector<event> events;  ///< with status::events: seq since+1, since+2, ...
  };
  /// Events after `since` (at most `max`), waiting up to `wait` for the first one; `resync` when
  /// some of them are gone (or never came through this buffer).
  batch read_after(std::uint64_t since, std::chrono::milliseconds wait, std::size_t max = 512);

 private:
  const std::size_t capacity_;
  const std::uint64_t floor_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<event> events_;  // gap-free: events_[i].seq == events_.front().seq + i
  bool closed_ = false;
};

/// One SSE message: `id:` (when non-zero), `event:` and `data:` lines, then a blank line.
std::string sse_message(std::string_view event_name, std::string_view data, std::uint64_t id = 0);

/// An engine event as an SSE `run` message whose data is the envelope `{seq, epoch, time, event, run}`.
std::string sse_run_event(const event& e, std::size_t cut_bytes, value_text_cache& cache);

}  // namespace coworker::protocol

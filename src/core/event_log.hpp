// The event log (docs/engine.md, "Events"): every event of one engine, in seq order, with a
// `durable_seq` mark. Events past the mark are held: only the committer sees them, to write them.
// Every consumer is a cursor that reads durable events after its position — the ZeroMQ gateway,
// the callback dispatcher, SSE streams, `wait` replies and durable `run` acknowledgements — so
// nothing is published or acknowledged before it is stored. No thread of its own, no CAF.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "coworker/event.hpp"

namespace coworker {

class event_log {
 public:
  /// `first_seq`: the seq before the log's first event (events up to it were never here).
  /// `window`: durable events kept after every pinned cursor read them, for readers that come
  /// back (read_after, Server-Sent Events with Last-Event-ID).
  explicit event_log(std::uint64_t first_seq = 0, std::size_t window = 4096);
  event_log(const event_log&) = delete;
  event_log& operator=(const event_log&) = delete;

  /// The records of events that left the log, for the caller to free once its locks are released
  /// (the last reference to a record and its values may be an event's, and run actors wait for them).
  using dead_events = std::vector<std::shared_ptr<const run_record>>;

  /// Appends the next event (seq == last_seq() + 1). `durable`: it needs no commit (memory mode),
  /// so it is readable at once. The records of events it lets go are added to `dead`.
  void append(event e, bool durable, dead_events& dead);
  void append(event e, bool durable) {
    dead_events dead;
    append(std::move(e), durable, dead);
  }
  /// Everything up to `seq` is stored: readable from now on. Wakes the readers.
  void mark_durable(std::uint64_t seq);
  std::uint64_t durable_seq() const { return durable_.load(std::memory_order_acquire); }
  std::uint64_t last_seq() const;

  /// The events in (after, upto] for the committer, by address: they stay where they are until
  /// they are durable (held events are never trimmed).
  void held(std::uint64_t after, std::uint64_t upto, std::vector<const event*>& out) const;

  // --- pinned cursors: the log keeps every event a cursor has not passed ----------------------
  /// Opens a cursor after `after` (clamped to what the log still has). `wake` is called, once per
  /// arming, from the thread that makes the next event readable; it must not block, nor close a
  /// cursor. Once close() returns, the cursor's wake is not running and will not run again.
  std::uint64_t open(std::uint64_t after, std::function<void()> wake);
  void close(std::uint64_t cursor);
  /// Up to `max` durable events after the cursor, by address, without moving it: they stay valid
  /// until advance(). When there are none, arms the cursor's wake and returns 0.
  std::size_t peek(std::uint64_t cursor, std::vector<const event*>& out, std::size_t max);
  /// Moves the cursor past `seq` (what peek gave has been handled).
  void advance(std::uint64_t cursor, std::uint64_t seq);
  std::uint64_t position(std::uint64_t cursor) const;

  // --- readers that may fall behind (SSE): nothing is kept for them beyond the window ---------
  enum class status { events, resync, timeout, closed };
  struct batch {
    status st = status::timeout;
    std::vector<event> events;  ///< with status::events: seq since+1, since+2, ...
  };
  /// Durable events after `since` (at most `max`), waiting up to `wait` for the first; `resync`
  /// when some of them are no longer here (or were never here: before the log's first seq).
  batch read_after(std::uint64_t since, std::chrono::milliseconds wait, std::size_t max = 512);
  /// Wakes every read_after; they answer `closed` from then on.
  void close_readers();

  std::size_t size() const;  ///< events in memory (held, unread and the window)

 private:
  struct cursor_state {
    std::uint64_t id;
    std::uint64_t pos;
    std::function<void()> wake;
    bool armed = false;
  };
  using wake_list = std::vector<std::shared_ptr<cursor_state>>;
  /// The armed cursors to wake (disarmed); called after mu_ is released.
  void due_locked(wake_list& out);
  void wake(const wake_list& due);
  void trim_locked(dead_events& dead);
  std::size_t index_locked(std::uint64_t seq) const { return static_cast<std::size_t>(seq - events_.front().seq); }

  const std::uint64_t floor_;
  const std::size_t window_;
  mutable std::mutex mu_;
  std::mutex wake_mu_;  // held while wake functions run; close() waits on it
  std::condition_variable readers_cv_;
  std::deque<event> events_;  // gap-free: events_[i].seq == events_.front().seq + i
  std::uint64_t last_;
  std::atomic<std::uint64_t> durable_;
  std::vector<std::shared_ptr<cursor_state>> cursors_;
  std::uint64_t next_cursor_ = 1;
  int readers_waiting_ = 0;
  bool closed_ = false;
};

}  // namespace coworker

// event_log: a deque under one mutex. Wake functions are called after the mutex is released, so a
// consumer may read the log from inside its wake.
#include "core/event_log.hpp"

#include <algorithm>

namespace coworker {

event_log::event_log(std::uint64_t first_seq, std::size_t window)
    : floor_(first_seq), window_(window), last_(first_seq), durable_(first_seq) {}

void event_log::append(event e, bool durable, dead_events& dead) {
  wake_list due;
  {
    std::lock_guard lock(mu_);
    last_ = e.seq;
    events_.push_back(std::move(e));
    if (!durable) return;
    durable_.store(last_, std::memory_order_release);
    due_locked(due);
    trim_locked(dead);
  }
  wake(due);
}

void event_log::mark_durable(std::uint64_t seq) {
  wake_list due;
  dead_events dead;
  {
    std::lock_guard lock(mu_);
    if (seq <= durable_.load(std::memory_order_relaxed)) return;
    durable_.store(std::min(seq, last_), std::memory_order_release);
    due_locked(due);
    trim_locked(dead);
  }
  wake(due);
}

std::uint64_t event_log::last_seq() const {
  std::lock_guard lock(mu_);
  return last_;
}

void event_log::held(std::uint64_t after, std::uint64_t upto, std::vector<const event*>& out) const {
  std::lock_guard lock(mu_);
  if (events_.empty() || upto <= after) return;
  auto from = std::max(after + 1, events_.front().seq);
  upto = std::min(upto, last_);
  for (auto s = from; s <= upto; ++s) out.push_back(&events_[index_locked(s)]);
}

std::uint64_t event_log::open(std::uint64_t after, std::function<void()> wake_fn) {
  std::lock_guard lock(mu_);
  auto c = std::make_shared<cursor_state>();
  c->id = next_cursor_++;
  // A cursor cannot start before what the log still has, nor after what it has published.
  auto first = events_.empty() ? last_ + 1 : events_.front().seq;
  c->pos = std::clamp(after, first - 1, durable_.load(std::memory_order_relaxed));
  c->wake = std::move(wake_fn);
  c->armed = true;  // a new reader has read nothing: wake it for the first event
  cursors_.push_back(std::move(c));
  return cursors_.back()->id;
}

void event_log::close(std::uint64_t cursor) {
  dead_events dead;
  {
    std::lock_guard lock(mu_);
    std::erase_if(cursors_, [&](const auto& c) { return c->id == cursor; });
    trim_locked(dead);
  }
  std::lock_guard waking(wake_mu_);  // a wake already under way ends before the owner goes
}

std::size_t event_log::peek(std::uint64_t cursor, std::vector<const event*>& out, std::size_t max) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(cursors_.begin(), cursors_.end(), [&](const auto& c) { return c->id == cursor; });
  if (it == cursors_.end()) return 0;
  auto& c = **it;
  const auto durable = durable_.load(std::memory_order_relaxed);
  if (c.pos >= durable || events_.empty()) {
    c.armed = true;
    return 0;
  }
  auto from = c.pos + 1;
  auto upto = std::min(durable, c.pos + max);
  for (auto s = from; s <= upto; ++s) out.push_back(&events_[index_locked(s)]);
  return static_cast<std::size_t>(upto - c.pos);
}

void event_log::advance(std::uint64_t cursor, std::uint64_t seq) {
  dead_events dead;
  std::lock_guard lock(mu_);
  for (auto& c : cursors_)
    if (c->id == cursor && seq > c->pos) c->pos = std::min(seq, durable_.load(std::memory_order_relaxed));
  trim_locked(dead);
}

std::uint64_t event_log::position(std::uint64_t cursor) const {
  std::lock_guard lock(mu_);
  for (const auto& c : cursors_)
    if (c->id == cursor) return c->pos;
  return 0;
}

event_log::batch event_log::read_after(std::uint64_t since, std::chrono::milliseconds wait, std::size_t max) {
  batch out;
  std::unique_lock lock(mu_);
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (closed_) {
      out.st = status::closed;
      return out;
    }
    const auto durable = durable_.load(std::memory_order_relaxed);
    const auto first = events_.empty() ? last_ + 1 : events_.front().seq;
    if (since + 1 < first || since > last_ || since < floor_) {
      out.st = status::resync;
      return out;
    }
    if (since < durable) {
      auto upto = std::min<std::uint64_t>(durable, since + std::max<std::size_t>(max, 1));
      out.events.reserve(static_cast<std::size_t>(upto - since));
      for (auto s = since + 1; s <= upto; ++s) out.events.push_back(events_[index_locked(s)]);
      out.st = status::events;
      return out;
    }
    ++readers_waiting_;
    auto woken = readers_cv_.wait_until(lock, deadline);
    --readers_waiting_;
    if (woken == std::cv_status::timeout) {
      out.st = status::timeout;
      return out;
    }
  }
}

void event_log::close_readers() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  readers_cv_.notify_all();
}

std::size_t event_log::size() const {
  std::lock_guard lock(mu_);
  return events_.size();
}

void event_log::due_locked(wake_list& out) {
  for (auto& c : cursors_) {
    if (!c->armed) continue;
    c->armed = false;
    if (c->wake) out.push_back(c);
  }
  if (readers_waiting_ > 0) readers_cv_.notify_all();
}

void event_log::wake(const wake_list& due) {
  if (due.empty()) return;
  std::lock_guard waking(wake_mu_);
  for (const auto& c : due) c->wake();
}

void event_log::trim_locked(dead_events& dead) {
  // Keep what is held, what a pinned cursor has not passed, and the window after that.
  auto keep_after = durable_.load(std::memory_order_relaxed);
  for (const auto& c : cursors_) keep_after = std::min(keep_after, c->pos);
  keep_after = keep_after > window_ ? keep_after - window_ : 0;
  while (!events_.empty() && events_.front().seq <= keep_after) {
    dead.push_back(std::move(events_.front().run));
    events_.pop_front();
  }
}

}  // namespace coworker

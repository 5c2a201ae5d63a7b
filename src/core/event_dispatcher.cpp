// event_dispatcher: a thread started with the first subscription, one cursor on the log.
#include "core/event_dispatcher.hpp"

#include <algorithm>

#include "core/thread_name.hpp"

namespace coworker {

event_dispatcher::event_dispatcher(event_log& log) : log_(log) {}

event_dispatcher::~event_dispatcher() { stop(); }

void event_dispatcher::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = stopped_ = true;
  }
  cv_.notify_all();
  done_cv_.notify_all();
  if (thread_.joinable() && !on_thread()) thread_.join();
  if (cursor_) log_.close(cursor_);
  cursor_ = 0;
}

std::uint64_t event_dispatcher::subscribe(callback fn) {
  auto s = std::make_shared<sub>();
  s->fn = std::move(fn);
  std::lock_guard lock(mu_);
  s->id = next_id_++;
  s->after = log_.durable_seq();
  subs_.push_back(s);
  if (!thread_.joinable() && !stopped_) {
    // The cursor starts where the first subscriber does; it only ever moves forward.
    delivered_ = s->after;
    cursor_ = log_.open(s->after, [this] {
      bool wake;
      {
        std::lock_guard l(mu_);
        woken_ = true;
        wake = sleeping_;
      }
      if (wake) cv_.notify_one();
    });
    thread_ = std::thread([this] {
      name_thread("cw-subscribers");
      loop();
    });
    thread_id_ = thread_.get_id();
  }
  return s->id;
}

void event_dispatcher::unsubscribe(std::uint64_t id) {
  std::shared_ptr<sub> s;
  {
    std::lock_guard lock(mu_);
    auto it = std::find_if(subs_.begin(), subs_.end(), [&](const auto& x) { return x->id == id; });
    if (it == subs_.end()) return;
    s = *it;
  }
  const bool inside = on_thread();
  if (!inside) flush();  // what was published before the call still reaches it
  {
    std::unique_lock call(s->call_mu, std::defer_lock);
    if (!inside) call.lock();  // waits for a call under way (from inside, we are that call)
    s->active = false;
  }
  std::lock_guard lock(mu_);
  std::erase_if(subs_, [&](const auto& x) { return x->id == id; });
}

std::size_t event_dispatcher::count() const {
  std::lock_guard lock(mu_);
  return subs_.size();
}

void event_dispatcher::flush() {
  if (on_thread()) return;
  auto target = log_.durable_seq();
  std::unique_lock lock(mu_);
  if (!thread_.joinable()) return;
  ++flushers_;
  done_cv_.wait(lock, [&] { return delivered_ >= target || stop_; });
  --flushers_;
}

void event_dispatcher::loop() {
  std::vector<const event*> batch;
  std::vector<std::shared_ptr<sub>> subs;
  for (;;) {
    batch.clear();
    if (log_.peek(cursor_, batch, 1024) == 0) {
      std::unique_lock lock(mu_);
      if (stop_ && !woken_) return;  // stopped, and nothing durable is left to deliver
      sleeping_ = true;
      cv_.wait(lock, [this] { return woken_ || stop_; });
      sleeping_ = false;
      woken_ = false;
      continue;
    }
    {
      std::lock_guard lock(mu_);
      subs = subs_;
    }
    for (const auto* e : batch) {
      for (const auto& s : subs) {
        if (e->seq <= s->after) continue;
        std::lock_guard call(s->call_mu);
        if (!s->active) continue;
        try {
          s->fn(*e);
        } catch (...) {
          // A subscriber's exception is its own business; it must not end delivery.
        }
      }
    }
    const auto last = batch.back()->seq;
    log_.advance(cursor_, last);
    std::lock_guard lock(mu_);
    delivered_ = last;
    if (flushers_ > 0) done_cv_.notify_all();
  }
}

}  // namespace coworker

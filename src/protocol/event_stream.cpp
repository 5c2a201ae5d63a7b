// event_buffer: a deque under one mutex; readers copy the events they send (shared records, cheap)
// and format them outside the lock.
#include "protocol/event_stream.hpp"

namespace coworker::protocol {

event_buffer::event_buffer(std::size_t capacity, std::uint64_t floor)
    : capacity_(capacity ? capacity : 1), floor_(floor) {}

void event_buffer::push(const event& e) {
  {
    std::lock_guard lock(mu_);
    // A subscription sees every seq after its first, so a jump means nothing before it is usable.
    if (!events_.empty() && e.seq != events_.back().seq + 1) events_.clear();
    events_.push_back(e);
    if (events_.size() > capacity_) events_.pop_front();
  }
  cv_.notify_all();
}

void event_buffer::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

event_buffer::batch event_buffer::read_after(std::uint64_t since, std::chrono::milliseconds wait, std::size_t max) {
  batch out;
  std::unique_lock lock(mu_);
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (closed_) {
      out.st = status::closed;
      return out;
    }
    if (events_.empty() ? since < floor_ : since + 1 < events_.front().seq) {
      out.st = status::resync;
      return out;
    }
    if (!events_.empty() && since < events_.back().seq) {
      auto first = static_cast<std::size_t>(since + 1 - events_.front().seq);
      auto n = std::min(max, events_.size() - first);
      out.events.assign(events_.begin() + static_cast<std::ptrdiff_t>(first),
                        events_.begin() + static_cast<std::ptrdiff_t>(first + n));
      out.st = status::events;
      return out;
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      out.st = status::timeout;
      return out;
    }
  }
}

std::string sse_message(std::string_view event_name, std::string_view data, std::uint64_t id) {
  std::string out;
  out.reserve(data.size() + event_name.size() + 32);
  if (id) out += "id: " + std::to_string(id) + "\n";
  out += "event: ";
  out += event_name;
  out += "\n";
  // A data line ends at a newline; compact JSON has none, but be exact for any text.
  std::size_t start = 0;
  while (true) {
    auto nl = data.find('\n', start);
    out += "data: ";
    out += data.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    out += "\n";
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  out += "\n";
  return out;
}

std::string sse_run_event(const event& e, std::size_t cut_bytes, value_text_cache& cache) {
  return sse_message("run", envelope_text(e, cut_bytes, cache), e.seq);
}

}  // namespace coworker::protocol

// history_pruner: retention passes on a thread of their own (docs/durability.md, "Retention").
#include "runs/retention.hpp"

#include <algorithm>
#include <chrono>

#include "coworker/run_record.hpp"
#include "runs/run_store.hpp"
#include "core/thread_name.hpp"

namespace coworker {

namespace {
/// Events kept in the store past those of the chains: only the last seq is needed, the rest is a
/// recent trace for whoever reads the file.
constexpr std::uint64_t events_window = 10000;
}  // namespace

history_pruner::history_pruner(run_store& store, retention_policy policy, std::int64_t every_ms, log_fn log)
    : store_(store), policy_(policy), every_ms_(every_ms), log_(std::move(log)) {
  if (policy_.slice == 0) policy_.slice = 1;
  thread_ = std::thread([this] {
    name_thread("cw-retention");
    loop();
  });
}

history_pruner::~history_pruner() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void history_pruner::poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

expected<std::size_t> history_pruner::pass() {
  std::lock_guard one(pass_mu_);
  std::size_t total = 0;
  while (true) {
    auto n = store_.prune(policy_, now_ms());
    if (!n) return n.error();
    total += *n;
    if (*n < policy_.slice) break;
    std::lock_guard lock(mu_);
    if (stop_) break;
  }
  if (auto r = store_.trim_events(events_window); !r) return r.error();
  return total;
}

void history_pruner::loop() {
  std::unique_lock lock(mu_);
  // The first pass waits a moment: its first query walks the index of every finished chain under
  // the store's lock, and the first requests after a restart must not queue behind it (a `get` right
  // after a start on 100,000 chains waited 0.2-3 s for it, bench HISTORY).
  cv_.wait_for(lock, std::chrono::milliseconds(std::min<std::int64_t>(every_ms_, first_pass_after_ms)),
               [this] { return stop_ || poked_; });
  poked_ = false;
  while (!stop_) {
    lock.unlock();
    auto r = pass();
    lock.lock();
    // The log says it once: when passes start failing and when they work again.
    if (!r && !failing_) {
      failing_ = true;
      log_("error", "retention of the stored history fails: " + r.error().message + "; retrying");
    } else if (r && failing_) {
      failing_ = false;
      log_("info", "retention of the stored history works again");
    }
    cv_.wait_for(lock, std::chrono::milliseconds(every_ms_), [this] { return stop_ || poked_; });
    poked_ = false;
  }
}

}  // namespace coworker

// The registry's committer (docs/durability.md): it writes what the event log holds, with the
// chains accepted since, in one transaction, and marks it durable only when that transaction
// committed. A failed write keeps everything held and is retried with backoff; while it fails,
// store_failure() is set (new chains get `unavailable`), and the log says so once, not per batch.
#include <algorithm>
#include <chrono>

#include "core/run_registry.hpp"
#include "core/thread_name.hpp"

namespace coworker {

namespace {
constexpr std::chrono::milliseconds first_backoff{10};
constexpr std::chrono::milliseconds max_backoff{1000};
/// At shutdown, how long the committer keeps retrying a store that cannot write.
constexpr std::chrono::milliseconds stop_retry{3000};
}  // namespace

run_registry::run_registry(std::string epoch, std::size_t retain_chains, std::uint64_t first_seq,
                           std::size_t replay_window, std::string stream)
    : epoch_(std::move(epoch)),
      stream_(std::move(stream)),
      retain_chains_(retain_chains),
      first_seq_(first_seq),
      seq_(first_seq),
      log_(first_seq, replay_window),
      dispatcher_(log_) {
  committer_ = std::thread([this] {
    name_thread("cw-committer");
    commit_loop();
  });
}

run_registry::~run_registry() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    wake_waiters_locked();
  }
  commit_cv_.notify_all();
  committer_.join();
  log_.close_readers();
  // The dispatcher (a member) delivers what became durable, then stops.
}

void run_registry::set_persist(persist_fn fn, log_fn log) {
  std::lock_guard lock(mu_);
  persist_ = std::move(fn);
  log_fn_ = std::move(log);
  durable_mode_ = static_cast<bool>(persist_);
}

std::optional<error> run_registry::store_failure() const {
  if (!failing_.load(std::memory_order_acquire)) return std::nullopt;
  std::lock_guard lock(mu_);
  return failure_;
}

bool run_registry::commit_once(std::vector<chain_submission>& chains, std::unique_lock<std::mutex>& lock) {
  // Chains accepted before an event are taken with it (both under mu_), so an event that is
  // durable implies that its chain's document is too.
  std::move(pending_chains_.begin(), pending_chains_.end(), std::back_inserter(chains));
  pending_chains_.clear();
  const auto from = log_.durable_seq();
  const auto upto = seq_;
  auto persist = persist_;
  lock.unlock();
  std::vector<const event*> batch;
  log_.held(from, upto, batch);
  auto written = persist ? persist(batch, chains) : expected<void>();
  if (written) log_.mark_durable(upto);
  lock.lock();
  if (written) {
    chains.clear();
    evict_locked();  // finished chains now stored may leave memory
    {  // what left memory is freed outside the lock runs need
      std::vector<record_ptr> dead;
      dead.swap(dead_);
      lock.unlock();
      dead.clear();
      lock.lock();
    }
    if (failing_.load(std::memory_order_relaxed)) {
      failing_.store(false, std::memory_order_release);
      failure_.reset();
      if (log_fn_)
        log_fn_("info", "the store writes again after " + std::to_string((now_ms() - failing_since_) / 1000) +
                            " s: the events held meanwhile are stored and published (up to seq " +
                            std::to_string(upto) + ")");
    }
    wake_waiters_locked();
    return true;
  }
  if (!failing_.load(std::memory_order_relaxed)) {
    failure_ = written.error();
    failing_since_ = now_ms();
    failing_.store(true, std::memory_order_release);
    if (log_fn_)
      log_fn_("error", "the store cannot write: " + written.error().message +
                           ". Nothing after seq " + std::to_string(from) +
                           " is published or acknowledged, and new chains get `unavailable`, until it can; "
                           "runs in flight keep their state. Retrying.");
    wake_waiters_locked();  // flush() returns while the store cannot write
  }
  return false;
}

void run_registry::commit_loop() {
  std::vector<chain_submission> chains;  // taken, not written yet
  auto backoff = first_backoff;
  std::optional<std::chrono::steady_clock::time_point> give_up;
  std::unique_lock lock(mu_);
  for (;;) {
    const bool work = seq_ > log_.durable_seq() || !pending_chains_.empty() || !chains.empty();
    if (!work) {
      if (stop_) return;
      committer_sleeping_ = true;
      commit_cv_.wait(lock, [this] { return stop_ || seq_ > log_.durable_seq() || !pending_chains_.empty(); });
      committer_sleeping_ = false;
      continue;
    }
    if (commit_once(chains, lock)) {
      backoff = first_backoff;
      continue;
    }
    if (stop_) {
      if (!give_up) give_up = std::chrono::steady_clock::now() + stop_retry;
      if (std::chrono::steady_clock::now() >= *give_up) {
        if (log_fn_)
          log_fn_("error", std::to_string(seq_ - log_.durable_seq()) +
                               " events could not be stored before the engine stopped; they were not published");
        return;
      }
    }
    // Retry after a pause; a stop cuts the pause short (then the retries are bounded above).
    commit_cv_.wait_for(lock, backoff, [&] { return stop_ && !give_up; });
    backoff = std::min(backoff * 2, max_backoff);
  }
}

record_ptr run_registry::wait_final(const std::string& id, std::chrono::milliseconds timeout, bool& ended) const {
  std::unique_lock lock(mu_);
  record_ptr r;
  ended = false;
  ++waiters_;
  auto mark = waited_.insert(id);
  waiters_cv_.wait_for(lock, timeout, [&] {
    auto it = entries_.find(id);
    if (it == entries_.end()) {  // unknown, or stored and gone from memory (read below)
      r.reset();  // what an earlier wake saw is stale
      return true;
    }
    r = merged_locked(it->second);
    ended = r && is_final(r->status) && it->second.final_seq <= log_.durable_seq();
    return ended || stop_;
  });
  --waiters_;
  waited_.erase(mark);
  lock.unlock();
  if (!r && history_) {
    // A chain leaves memory only once its end is stored: what the store has is final and durable.
    if (auto stored = history_->record(id)) {
      r = std::make_shared<const run_record>(std::move(*stored));
      ended = is_final(r->status);
    }
  }
  return r;
}

bool run_registry::wait_durable(const std::string& id) const {
  std::unique_lock lock(mu_);
  bool ok = false;
  ++waiters_;
  auto mark = waited_.insert(id);
  waiters_cv_.wait(lock, [&] {
    auto it = entries_.find(id);
    if (it == entries_.end()) {
      ok = static_cast<bool>(history_);  // gone from memory: it was stored first
      return true;
    }
    if (stop_) return true;
    ok = it->second.first_seq && it->second.first_seq <= log_.durable_seq();
    return ok;
  });
  --waiters_;
  waited_.erase(mark);
  return ok;
}

bool run_registry::is_durable(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return static_cast<bool>(history_);  // gone from memory: it was stored first
  return it->second.first_seq && it->second.first_seq <= log_.durable_seq();
}

void run_registry::flush() const {
  {
    std::unique_lock lock(mu_);
    const auto target = seq_;
    ++waiters_;
    waiters_cv_.wait(lock, [&] {
      return log_.durable_seq() >= target || stop_ || failing_.load(std::memory_order_relaxed);
    });
    --waiters_;
  }
  dispatcher_.flush();
}

}  // namespace coworker

// signal_board: the rules of signals and await steps (signal_board.hpp).
#include "core/signal_board.hpp"

#include <algorithm>

#include "core/json_schema.hpp"

namespace coworker {

signal_board::signal_board(std::int64_t keep_ms, std::size_t max_kept, signal_keeper* keeper, log_fn log)
    : keep_ms_(keep_ms), max_kept_(max_kept), keeper_(keeper), log_(std::move(log)) {}

void signal_board::restore(std::vector<kept_signal> rows) {
  std::lock_guard lock(mu_);
  std::sort(rows.begin(), rows.end(), [](const kept_signal& a, const kept_signal& b) { return a.id < b.id; });
  for (auto& s : rows) {
    next_id_ = std::max(next_id_, s.id + 1);
    if (!s.taken_by.empty()) {
      auto run = s.taken_by;
      reserved_[run] = std::move(s);
      continue;
    }
    ++kept_count_;
    auto key = s.key;
    kept_[key].push_back(std::move(s));
  }
}

std::vector<signal_board::waiter_ptr> signal_board::live_waiters_locked(const std::string& key) {
  std::vector<waiter_ptr> out;
  auto q = waiters_.find(key);
  if (q == waiters_.end()) return out;
  auto waiting = q->second;  // a copy: forgetting changes the queue
  for (const auto& w : waiting) {
    if (w->resp.done())
      forget_waiter_locked(w);
    else
      out.push_back(w);
  }
  return out;
}

bool signal_board::deliver_locked(const waiter_ptr& w, const json& payload) {
  if (!w->resp.complete(payload)) return false;
  forget_waiter_locked(w);
  return true;
}

void signal_board::forget_waiter_locked(const waiter_ptr& w) {
  if (auto it = by_run_.find(w->run_id); it != by_run_.end() && it->second == w) by_run_.erase(it);
  auto q = waiters_.find(w->key);
  if (q == waiters_.end()) return;
  auto& d = q->second;
  d.erase(std::remove(d.begin(), d.end(), w), d.end());
  if (d.empty()) waiters_.erase(q);
}

void signal_board::drop_locked(std::vector<std::uint64_t> ids, const char* why) {
  if (ids.empty() || !keeper_) return;
  if (auto r = keeper_->drop(ids); !r && log_)
    log_("warn", std::string("signals ") + why + " are still stored (they go at the next sweep): " + r.error().message);
}

void signal_board::wait(const std::string& run_id, const std::string& key, json schema, responder r, std::int64_t now) {
  std::lock_guard lock(mu_);
  // A signal taken before a restart belongs to this run (the same run id resumes).
  if (auto res = reserved_.find(run_id); res != reserved_.end()) {
    auto s = std::move(res->second);
    reserved_.erase(res);
    if (r.complete(deref(s.payload))) taken_.push_back(std::move(s));
    return;
  }
  if (auto k = kept_.find(key); k != kept_.end()) {
    auto& q = k->second;
    std::vector<std::uint64_t> refused;
    while (!q.empty()) {
      auto s = std::move(q.front());
      q.pop_front();
      --kept_count_;
      if (keep_ms_ > 0 && now - s.kept_at > keep_ms_) {
        refused.push_back(s.id);
        continue;
      }
      if (!schema.is_null()) {
        if (auto v = schema::validate(schema, deref(s.payload), "/payload"); !v) {
          if (log_)
            log_("warn", "a signal kept for '" + key + "' does not fit the schema of run " + run_id + "'s await (" +
                             v.error().path + ": " + v.error().message + "): dropped");
          refused.push_back(s.id);
          continue;
        }
      }
      if (keeper_) {
        auto t = keeper_->take(s.id, run_id);
        if (t && !*t) continue;  // an await on another node took it first: this copy goes
        if (!t && log_)
          log_("warn", "run " + run_id + " took a kept signal whose taking is not stored: " + t.error().message);
      }
      s.taken_by = run_id;
      const bool answered = r.complete(deref(s.payload));
      if (answered) {
        taken_.push_back(std::move(s));
      } else {
        q.push_front(std::move(s));  // the run stopped waiting meanwhile: the signal stays kept
        ++kept_count_;
      }
      if (q.empty()) kept_.erase(k);
      drop_locked(std::move(refused), "dropped");
      return;
    }
    kept_.erase(k);
    drop_locked(std::move(refused), "dropped");
  }
  auto w = std::make_shared<waiter>(waiter{run_id, key, std::move(schema), std::move(r)});
  if (auto old = by_run_.find(run_id); old != by_run_.end()) forget_waiter_locked(old->second);  // an earlier attempt's
  by_run_[run_id] = w;
  waiters_[key].push_back(std::move(w));
}

expected<signal_result> signal_board::signal(const std::string& key, const json& payload, std::int64_t now) {
  std::lock_guard lock(mu_);
  for (const auto& w : live_waiters_locked(key)) {
    if (!w->schema.is_null())
      if (auto v = schema::validate(w->schema, payload, "/payload"); !v) {
        auto e = v.error();
        e.message = "the payload does not fit the schema of run " + w->run_id + "'s await: " + e.message;
        return e;
      }
    if (deliver_locked(w, payload)) return signal_result{true, w->run_id};
    forget_waiter_locked(w);
  }
  if (kept_count_ >= max_kept_)
    return make_error(codes::busy, std::to_string(max_kept_) +
                                       " signals are kept already (limits.keptSignals) and no await waits for '" + key +
                                       "'; try again later");
  kept_signal s;
  s.key = key;
  s.payload = share(payload);
  s.kept_at = now;
  if (keeper_) {
    auto id = keeper_->keep(key, payload, now);
    if (!id) return make_error(codes::unavailable, "the signal could not be stored, so it is not kept: " + id.error().message);
    s.id = *id;
  } else {
    s.id = next_id_++;
  }
  const auto id = s.id;
  kept_[key].push_back(std::move(s));
  ++kept_count_;
  return signal_result{false, {}, id};
}

std::string signal_board::offer(kept_signal s, std::int64_t now) {
  std::lock_guard lock(mu_);
  if (keep_ms_ > 0 && now - s.kept_at > keep_ms_) return {};
  for (const auto& w : live_waiters_locked(s.key)) {
    if (!w->schema.is_null())
      if (auto v = schema::validate(w->schema, deref(s.payload), "/payload"); !v) {
        if (log_)
          log_("warn", "a signal kept for '" + s.key + "' on another node does not fit the schema of run " +
                           w->run_id + "'s await (" + v.error().path + ": " + v.error().message + "): not taken");
        continue;
      }
    if (keeper_) {
      auto t = keeper_->take(s.id, w->run_id);
      if (t && !*t) return {};  // another await took it first
      if (!t && log_)
        log_("warn", "run " + w->run_id + " took a kept signal whose taking is not stored: " + t.error().message);
    }
    s.taken_by = w->run_id;
    if (deliver_locked(w, deref(s.payload))) {
      auto run = s.taken_by;
      taken_.push_back(std::move(s));
      return run;
    }
    forget_waiter_locked(w);
    return {};  // claimed for a run that stopped waiting meanwhile: its resumption takes it
  }
  auto& q = kept_[s.key];
  for (const auto& k : q)
    if (k.id == s.id) return {};  // held already (read at the start)
  if (kept_count_ >= max_kept_) return {};  // the node that kept it holds it still
  q.push_back(std::move(s));
  ++kept_count_;
  return {};
}

expected<signal_result> signal_board::signal_run(const std::string& run_id, const json& payload) {
  std::lock_guard lock(mu_);
  auto it = by_run_.find(run_id);
  if (it == by_run_.end() || it->second->resp.done()) {
    if (it != by_run_.end()) forget_waiter_locked(it->second);
    return make_error(codes::not_waiting, "run " + run_id + " is not an await step waiting for a signal", "/runId");
  }
  auto w = it->second;
  if (!w->schema.is_null())
    if (auto v = schema::validate(w->schema, payload, "/payload"); !v) {
      auto e = v.error();
      e.message = "the payload does not fit the schema of run " + run_id + "'s await: " + e.message;
      return e;
    }
  if (!deliver_locked(w, payload)) {
    forget_waiter_locked(w);
    return make_error(codes::not_waiting, "run " + run_id + " stopped waiting", "/runId");
  }
  return signal_result{true, run_id};
}

std::size_t signal_board::sweep(std::int64_t now, const std::function<bool(const std::string&)>& ended) {
  std::lock_guard lock(mu_);
  std::vector<waiter_ptr> stale;
  for (const auto& [run, w] : by_run_)
    if (w->resp.done()) stale.push_back(w);
  for (const auto& w : stale) forget_waiter_locked(w);

  std::vector<std::uint64_t> expired;
  if (keep_ms_ > 0) {
    for (auto it = kept_.begin(); it != kept_.end();) {
      auto& q = it->second;
      while (!q.empty() && now - q.front().kept_at > keep_ms_) {
        expired.push_back(q.front().id);
        q.pop_front();
        --kept_count_;
      }
      it = q.empty() ? kept_.erase(it) : std::next(it);
    }
  }
  const auto n = expired.size();
  if (ended) {
    for (auto it = taken_.begin(); it != taken_.end();) {
      if (!ended(it->taken_by)) {
        ++it;
        continue;
      }
      expired.push_back(it->id);
      it = taken_.erase(it);
    }
    for (auto it = reserved_.begin(); it != reserved_.end();) {
      if (!ended(it->first)) {
        ++it;
        continue;
      }
      expired.push_back(it->second.id);
      it = reserved_.erase(it);
    }
  }
  if (n > 0 && log_) log_("info", std::to_string(n) + " kept signals expired (limits.signalKeepMs) with no await to take them");
  drop_locked(std::move(expired), "expired or delivered");
  return n;
}

std::size_t signal_board::kept() const {
  std::lock_guard lock(mu_);
  return kept_count_;
}

std::size_t signal_board::waiting() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& [run, w] : by_run_)
    if (!w->resp.done()) ++n;
  return n;
}

bool signal_board::is_waiting(const std::string& run_id) const {
  std::lock_guard lock(mu_);
  auto it = by_run_.find(run_id);
  return it != by_run_.end() && !it->second->resp.done();
}

}  // namespace coworker

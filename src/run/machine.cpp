// run::machine: the rules of a run's life (docs/chain-language.md, docs/engine.md), as pure
// transitions. See machine.hpp for the events and actions.
#include "run/machine.hpp"

#include <algorithm>

#include "run/element_budget.hpp"
#include "run/retry.hpp"

namespace coworker::run {

using chain::step_kind;

const char* to_string(phase p) {
  switch (p) {
    case phase::idle: return "idle";
    case phase::scheduled: return "scheduled";
    case phase::running: return "running";
    case phase::draining: return "draining";
    case phase::waiting_retry: return "waiting_retry";
    case phase::fallback: return "fallback";
    case phase::done: return "done";
  }
  return "?";
}

namespace {

run_error error_of(const run_record& r) {
  if (r.err) return *r.err;
  return run_error{codes::internal, "run ended " + std::string(to_string(r.status)), r.id, r.operation, {}};
}

}  // namespace

machine::machine(placement where, const settings& cfg)
    : at_(std::move(where)), cfg_(cfg), step_(*at_.step), rng_(at_.seed) {}

std::uint64_t machine::draw() {
  std::uint64_t z = (rng_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

run_error machine::error_here(std::string code, std::string message, std::string path) const {
  return run_error{std::move(code), std::move(message), rec_.id, rec_.operation, std::move(path)};
}

std::string machine::label() const {
  if (!step_.id.empty()) return "step '" + step_.id + "'";
  return "step at " + (step_.pointer.empty() ? std::string("/") : step_.pointer);
}

std::int64_t machine::attempt_timeout_ms() const {
  if (step_.options.timeout_ms) return *step_.options.timeout_ms;
  if (step_.kind == step_kind::operation && step_.operation == "await")
    return static_cast<std::int64_t>(cfg_.lim.signal_keep_ms);
  if (step_.kind == step_kind::operation) return static_cast<std::int64_t>(cfg_.lim.step_timeout_ms);
  return 0;
}

// --- events -------------------------------------------------------------------------------------

void machine::handle(event ev, std::int64_t now, action_sink& out) {
  out_ = &out;
  now_ = now;
  std::visit(
      [this](auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, start>) {
          if (ph_ == phase::idle) on_start();
        } else if constexpr (std::is_same_v<E, child_ended>) {
          on_child_ended(std::move(e));
        } else if constexpr (std::is_same_v<E, operation_answered>) {
          on_answer(e);
        } else if constexpr (std::is_same_v<E, operation_missing>) {
          if (e.attempt != token_ || ph_ != phase::running) return;
          calling_ = false;
          attempt_failed(error_here(codes::unknown_operation, "no handler serves operation '" + step_.operation + "'"));
        } else if constexpr (std::is_same_v<E, timer_fired>) {
          switch (e.which) {
            case timer::attempt_timeout:
              if (e.token != token_ || ph_ != phase::running) return;  // a timer of an earlier attempt
              attempt_failed(error_here(codes::timeout, label() + " timed out after " +
                                                            std::to_string(attempt_timeout_ms()) + " ms"));
              return;
            case timer::retry:
              if (e.token == token_ && ph_ == phase::waiting_retry) begin_attempt();
              return;
            case timer::drain:
              on_drain_expired(e.token);
              return;
            case timer::start:
              if (e.token == token_ && ph_ == phase::scheduled) begin_run(true);
              return;
          }
        } else if constexpr (std::is_same_v<E, cancel_asked>) {
          if (e.run_id.empty() || e.run_id == rec_.id) {
            cancel();
          } else if (ph_ != phase::done) {
            cancel_below(e.run_id);
          }
        } else if constexpr (std::is_same_v<E, crashed>) {
          if (ph_ == phase::done) return;
          for (std::size_t i = first_; i < children_.size(); ++i)
            if (!children_[i].done && children_[i].spawned) emit(cancel_child{i, {}});
          rec_.err = error_here(codes::internal, "internal error: " + e.what);
          finish(run_status::failed);
        }
      },
      ev);
  // Children taken from the resume plan end as soon as they are started, in start order.
  for (std::size_t i = 0; i < adopted_.size(); ++i) on_child_ended(std::move(adopted_[i]));
  adopted_.clear();
  out_ = nullptr;
}

// --- starting -----------------------------------------------------------------------------------

void machine::on_start() {
  auto& r = rec_;
  // The ids move into the record: it is what everything reads from now on (where() keeps the step,
  // the scope and the flow).
  r.id = std::move(at_.id);
  r.operation = step_.operation;
  r.doctype = step_.doctype;
  r.step_id = step_.id;
  r.step_index = at_.step_index;
  r.created = now_;
  r.parent_run_id = std::move(at_.parent_run_id);
  r.owner_run_id = std::move(at_.owner_run_id);
  r.chain_id = at_.chain_id.empty() ? r.id : std::move(at_.chain_id);
  r.role = step_.role;
  r.keep_alive = step_.options.keep_alive.value_or(step_.operation == "message");
  if (at_.created) r.created = at_.created;
  if (const auto* named = step_.call ? step_.call.get() : step_.named.get()) {
    r.chain_name = named->name;
    r.chain_version = named->version;
    r.chain_sha256 = named->sha256;
  }
  if (at_.trace) {
    r.trace_id = at_.trace->trace_id;
    if (r.owner_run_id.empty()) r.parent_span_id = at_.trace->parent_span_id;
  }

  // A chain submitted with a later start (startAt) is `scheduled` until then; one scheduled before
  // a restart keeps its time (docs/chain-language.md, "Delayed start").
  auto start_at = at_.start_at;
  const run_record* was_scheduled = nullptr;
  if (at_.resume)
    if (auto old = at_.resume->by_id.find(r.id); old != at_.resume->by_id.end() && old->second->status == run_status::scheduled)
      was_scheduled = old->second.get();
  if (was_scheduled) {
    r.created = was_scheduled->created;
    start_at = was_scheduled->start_at;
  }
  if (start_at > now_) {
    ph_ = phase::scheduled;
    r.status = run_status::scheduled;
    r.start_at = start_at;
    emit(publish_update{std::make_shared<const run_record>(r)});
    emit(start_timer{timer::start, start_at - now_, token_});
    return;
  }
  begin_run(was_scheduled != nullptr);
}

void machine::begin_run(bool fresh) {
  auto& r = rec_;
  r.start_at = 0;
  ph_ = phase::running;

  if (at_.resume && !fresh) {
    auto old = at_.resume->by_id.find(r.id);
    if (old != at_.resume->by_id.end() && at_.resume->redrive && is_final(old->second->status)) {
      // Redriven (docs/chain-language.md, "Redrive"): it did not end well, so it runs again from
      // its `if`, under its id, taking the children that ended well. A top chain counts it.
      r.created = old->second->created;
      r.redrives = old->second->redrives + (r.owner_run_id.empty() ? 1 : 0);
      adopting_ = true;
      old = at_.resume->by_id.end();
    }
    if (old != at_.resume->by_id.end()) {
      // Resumed after a restart: its `if` and input were settled before; run the attempt again
      // and take the children that finished (docs/durability.md). Its timers keep their due
      // times: an attempt keeps its start (its deadline, a `wait`'s end), a retry its time.
      const auto& was = *old->second;
      r.created = was.created;
      r.attempts = was.attempts;
      r.redrives = was.redrives;
      input_ = was.input;
      r.input = input_;
      r.status = run_status::running;
      r.started = was.started ? was.started : now_;
      if (was.retry_at) {
        // It waited for a retry: the next attempt starts at its time, afresh.
        r.retry_at = was.retry_at;
        ph_ = phase::waiting_retry;
        emit(publish_start{std::make_shared<const run_record>(r)});
        emit(start_timer{timer::retry, std::max<std::int64_t>(0, was.retry_at - now_), token_});
        return;
      }
      adopting_ = true;
      resumed_attempt_started_ = was.attempt_started;
      ++r.attempts;  // before:run shows the attempt that starts
      counted_ = true;
      r.attempt_started = was.attempt_started ? was.attempt_started : now_;
      emit(publish_start{std::make_shared<const run_record>(r)});
      begin_attempt();
      return;
    }
  }
  frame_scope scope(at_.scope.get(), at_.prev.get());
  if (step_.when) {
    // `if` false: skipped, and transparent to `prev` and the pipe of the steps after it.
    auto ok = step_.when->evaluate(scope);
    if (ok && !*ok) {
      finish(run_status::skipped);
      return;
    }
    if (!ok) {
      const auto& e = ok.error();
      failure_ = error_here(e.code, e.message, e.path);
      fail_final();  // a broken condition is not retried; onError still runs
      return;
    }
  }
  if (step_.has_input) {
    auto in = step_.input.constant() ? expected<json>(step_.input.source()) : step_.input.resolve(scope);
    if (!in) {
      const auto& e = in.error();
      failure_ = error_here(e.code, e.message, e.path);
      fail_final();
      return;
    }
    if (approx_size(*in, cfg_.lim.max_value_bytes) > cfg_.lim.max_value_bytes) {
      failure_ = error_here(codes::too_large, "the resolved input is larger than the limit", step_.pointer + "/input");
      fail_final();
      return;
    }
    input_ = share(std::move(*in));
  } else {
    input_ = at_.pipe;  // the default input: the previous step's output
  }
  r.input = input_;
  r.status = run_status::running;
  r.started = now_;
  r.attempt_started = now_;
  ++r.attempts;  // before:run shows the attempt that starts
  counted_ = true;
  emit(publish_start{std::make_shared<const run_record>(r)});
  begin_attempt();
}

// --- attempts -----------------------------------------------------------------------------------

void machine::begin_attempt() {
  const bool retrying = ph_ == phase::waiting_retry;
  if (retrying) adopting_ = false;  // a retry runs everything afresh
  ph_ = phase::running;
  // The attempt's start: kept from before a restart (its deadline and a `wait` end on time), else now.
  rec_.attempt_started = resumed_attempt_started_ ? resumed_attempt_started_ : now_;
  resumed_attempt_started_ = 0;
  failure_.reset();
  for (std::size_t i = first_; i < children_.size(); ++i) {  // the last attempt's results are not needed
    children_[i].result.reset();
    children_[i].exports.reset();
  }
  first_ = children_.size();
  active_ = 0;
  next_ = 0;
  ++token_;
  if (!counted_) ++rec_.attempts;
  counted_ = false;
  if (retrying) {
    // The stored record says the retry began: a restart from here resumes this attempt, not the wait.
    rec_.retry_at = 0;
    emit(publish_update{std::make_shared<const run_record>(rec_)});
  }
  if (auto t = attempt_timeout_ms())
    emit(start_timer{timer::attempt_timeout, std::max<std::int64_t>(0, rec_.attempt_started + t - now_), token_});

  switch (step_.kind) {
    case step_kind::operation:
      run_operation();
      return;
    case step_kind::chain: {
      // A chain called by name sees its input and its own steps only (docs/chain-language.md).
      auto f = std::make_shared<frame>();
      f->parent = step_.call ? nullptr : at_.scope;
      f->name = "input";
      f->value = input_;
      local_ = std::move(f);
      prev_ = step_.call ? nullptr : at_.prev;
      pipe_ = input_;  // the first step receives what the chain received
      start_next_chain_child();
      return;
    }
    case step_kind::parallel: {
      if (step_.children.empty()) {
        complete_members();
        return;
      }
      int i = 0;
      const auto width = saturating_product(at_.width, step_.children.size());
      for (const auto& m : step_.children) spawn(m, i++, rec_.parent_run_id, at_.scope, at_.prev, input_, width);
      return;
    }
    case step_kind::for_each: {
      frame_scope scope(at_.scope.get(), at_.prev.get());
      auto items = step_.for_each.resolve(scope);
      if (!items) {
        const auto& e = items.error();
        attempt_failed(error_here(e.code, e.message, e.path));
        return;
      }
      if (!items->is_array()) {
        attempt_failed(error_here(codes::invalid_input, "forEach needs an array, got " + std::string(items->type_name()),
                                  step_.pointer + "/forEach"));
        return;
      }
      items_ = share(std::move(*items));
      if (deref(items_).empty()) {
        rec_.output = share(json::array());
        finish(run_status::completed);
        return;
      }
      // limits.chainElements is decided here, before any element runs.
      auto width = for_each_width(at_.width, deref(items_).size(), step_.options.concurrency, cfg_.lim.max_chain_elements);
      if (!width) {
        attempt_failed(error_here(width.error().code, width.error().message, step_.pointer + "/forEach"));
        return;
      }
      element_width_ = *width;
      start_next_elements();
      return;
    }
  }
}

void machine::run_operation() {
  op_request req{step_.operation, step_.doctype, step_.role, rec_.id, rec_.chain_id, step_.id, rec_.attempts, input_, 0,
                 rec_.attempt_started, {}};
  if (auto t = attempt_timeout_ms()) req.deadline = rec_.attempt_started + t;
  if (at_.trace) req.traceparent = format_traceparent(*at_.trace, span_id_of(rec_.id));
  calling_ = true;
  emit(call_operation{token_, std::move(req)});
  if (step_.operation == "await" && rec_.status != run_status::waiting) {
    // An await step waits for a signal: its record says so (docs/run-record.md, "Status"), once
    // the call is out, so whoever sees `waiting` can signal it. Its answer comes as a later event.
    rec_.status = run_status::waiting;
    emit(publish_update{std::make_shared<const run_record>(rec_)});
  }
}

void machine::on_answer(operation_answered& a) {
  if (a.attempt != token_ || ph_ != phase::running) return;  // a late answer of an earlier attempt
  calling_ = false;
  if (!a.result) {
    const auto& e = a.result.error();
    // A remote worker died holding this attempt: while someone still serves the operation, run a
    // new attempt (counted in attempts) on another worker, outside the step's retry policy.
    if (e.code == codes::worker_lost && worker_losses_++ < max_worker_losses && a.still_served) {
      begin_attempt();
      return;
    }
    attempt_failed(error_here(e.code.empty() ? codes::handler_error : e.code, e.message, e.path));
    return;
  }
  if (approx_size(*a.result, cfg_.lim.max_value_bytes) > cfg_.lim.max_value_bytes) {
    attempt_failed(error_here(codes::too_large,
                              "the output is larger than " + std::to_string(cfg_.lim.max_value_bytes) + " bytes"));
    return;
  }
  rec_.output = share(std::move(*a.result));
  finish(run_status::completed);
}

void machine::release() {
  if (!calling_) return;
  calling_ = false;
  emit(release_operation{});
}

// --- failing ------------------------------------------------------------------------------------

void machine::attempt_failed(run_error err) {
  if (ph_ == phase::done) return;
  release();
  if (!failure_ || ph_ == phase::running) failure_ = std::move(err);
  if (active_ > 0) {
    if (ph_ != phase::draining) drain();  // the attempt's other children are cancelled first
    return;
  }
  resolve_failure();
}

/// The attempt is over with failure_ and no child is active: cancelled, retried, or final.
void machine::resolve_failure() {
  if (cancelling_) {
    rec_.err = failure_;
    finish(run_status::cancelled);
    return;
  }
  if (step_.options.retry) {
    // The draw is a uniform double in [0, 1) from the top 53 bits.
    const double u = static_cast<double>(draw() >> 11) * 0x1.0p-53;
    if (auto delay = retry_delay(*step_.options.retry, rec_.attempts, failure_->code, u)) {
      ph_ = phase::waiting_retry;
      // Stored with its due time: a restart meanwhile starts the retry then (docs/durability.md, "Timers").
      // An await no longer waits for a signal meanwhile.
      rec_.retry_at = now_ + delay->count();
      rec_.status = run_status::running;
      emit(publish_update{std::make_shared<const run_record>(rec_)});
      emit(start_timer{timer::retry, delay->count(), token_});
      return;
    }
  }
  fail_final();
}

/// The run failed for good: it ends failed, or its onError runs as a child of the failed run
/// (`prev` is the failed run, `{{error}}` its error); the run is then `recovered` when it succeeds.
void machine::fail_final() {
  rec_.err = failure_;
  if (!step_.on_error) {
    finish(run_status::failed);
    return;
  }
  ph_ = phase::fallback;
  first_ = children_.size();
  active_ = 0;
  auto failed = std::make_shared<run_record>(rec_);
  failed->status = run_status::failed;
  failed->child_run_ids.clear();
  for (const auto& c : children_) failed->child_run_ids.push_back(c.id);
  auto err = share(to_json(*failure_));
  auto f = std::make_shared<frame>();
  f->parent = at_.scope;
  f->name = "error";
  f->value = err;
  if (!step_.id.empty()) f->steps[step_.id] = failed;  // `{{send.error}}` inside send's onError
  spawn(step_.on_error, -1, rec_.id, std::move(f), std::move(failed), err);
}

void machine::on_fallback_ended(const run_record& r) {
  if (cancelling_) {
    finish(run_status::cancelled);
    return;
  }
  if (r.status == run_status::completed || (r.status == run_status::failed && r.recovered)) {
    rec_.recovered = true;
    rec_.output = r.output;
  }
  finish(run_status::failed);
}

/// Asks every active child to cancel and waits, at most cancel_grace_ms, for their records.
void machine::drain() {
  ph_ = phase::draining;
  for (std::size_t i = first_; i < children_.size(); ++i)
    if (!children_[i].done && children_[i].spawned) emit(cancel_child{i, {}});
  emit(start_timer{timer::drain, cfg_.cancel_grace_ms, ++drain_token_});
}

void machine::on_drain_expired(std::uint64_t token) {
  if (token != drain_token_ || ph_ != phase::draining) return;
  // Children that did not answer the cancel in time are ended by force.
  for (std::size_t i = first_; i < children_.size(); ++i) {
    auto& c = children_[i];
    if (c.done) continue;
    emit(force_end{c.id, run_status::cancelled, run_error{codes::cancelled, "cancelled (did not stop in time)", c.id, {}, {}}});
    c.done = true;
    --active_;
  }
  resolve_failure();
}

void machine::cancel() {
  if (ph_ == phase::done || cancelling_) return;
  cancelling_ = true;
  release();
  failure_ = error_here(codes::cancelled, "cancelled");
  if (active_ > 0) {
    if (ph_ != phase::draining) drain();
    return;
  }
  resolve_failure();
}

void machine::cancel_below(const std::string& run_id) {
  if (auto it = index_of_.find(run_id); it != index_of_.end()) {
    const auto& c = children_[it->second];
    if (!c.done && c.spawned) emit(cancel_child{it->second, {}});
    return;
  }
  // Further down: ask every active child (a cancel by id is rare; a tree is small next to it).
  for (std::size_t i = first_; i < children_.size(); ++i)
    if (!children_[i].done && children_[i].spawned) emit(cancel_child{i, run_id});
}

// --- ending -------------------------------------------------------------------------------------

void machine::finish(run_status status) {
  if (ph_ == phase::done) return;
  release();
  ph_ = phase::done;
  rec_.status = status;
  rec_.finished = now_;
  rec_.attempt_started = 0;  // timers are for runs that have not ended
  rec_.retry_at = 0;
  rec_.start_at = 0;
  rec_.success = status == run_status::completed;
  if (status == run_status::completed) rec_.err.reset();
  rec_.child_run_ids.clear();
  rec_.child_run_ids.reserve(children_.size());
  for (auto& c : children_) rec_.child_run_ids.push_back(std::move(c.id));  // the table is done with
  const bool top = rec_.owner_run_id.empty();
  // The record goes out whole; the machine keeps its id and status (record() after the end).
  auto snap = std::make_shared<const run_record>(std::move(rec_));
  rec_ = run_record{};
  rec_.id = snap->id;
  rec_.status = snap->status;

  std::shared_ptr<const export_list> exports;
  if (step_.kind != step_kind::operation && status == run_status::completed) {
    auto list = std::make_shared<export_list>();
    if (step_.call) {
      // A called chain's steps are its own: nothing of it is visible to the caller but its output.
    } else if (step_.kind == step_kind::chain && local_) {
      list->assign(local_->steps.begin(), local_->steps.end());
    } else {
      // Group members, or the body runs of a forEach's last element.
      std::size_t from = step_.kind == step_kind::for_each && children_.size() > first_ ? children_.size() - 1 : first_;
      for (std::size_t i = from; i < children_.size(); ++i) {
        const auto& c = children_[i];
        if (!c.result) continue;
        if (!c.result->step_id.empty()) list->emplace_back(c.result->step_id, c.result);
        if (c.exports) list->insert(list->end(), c.exports->begin(), c.exports->end());
      }
    }
    exports = std::move(list);
  }
  // Let go of the enclosing frame before answering, so the owner can extend it without copying.
  local_.reset();
  at_.scope.reset();
  at_.prev.reset();
  prev_.reset();

  if (top && at_.resume) {
    // Runs recorded before the restart that this chain did not take up again end as cancelled.
    for (const auto& [id, old] : at_.resume->by_id)
      if (id != rec_.id && !is_final(old->status))
        emit(force_end{id, run_status::cancelled,
                       run_error{codes::cancelled, "abandoned when the chain resumed after a restart", id, {}, {}}});
  }
  emit(end_run{std::move(snap), std::move(exports)});
}

// --- children -----------------------------------------------------------------------------------

void machine::spawn(const chain::step_ptr& step, int index, std::string parent_run_id,
                    std::shared_ptr<const frame> scope, record_ptr prev, value_ptr pipe, std::size_t width) {
  std::string id;
  if (adopting_) {
    if (auto old = at_.resume->child(rec_.id, index)) {
      if (at_.resume->redrive ? ended_well(*old) : is_final(old->status)) {
        // Finished before the restart (or, redriven, ended well): taken as it is, never run again.
        index_of_.emplace(old->id, children_.size());
        children_.push_back(child{old->id, nullptr, nullptr, false, false});
        ++active_;
        adopted_.push_back(child_ended{old, at_.resume->exports_below(old->id)});
        return;
      }
      id = old->id;  // was running: run again in place
    }
  }
  if (id.empty()) id = cfg_.new_id();
  placement c;
  c.step = step;
  c.id = id;
  c.chain_id = rec_.chain_id;
  c.parent_run_id = std::move(parent_run_id);
  c.owner_run_id = rec_.id;
  c.step_index = index;
  c.scope = std::move(scope);
  c.prev = std::move(prev);
  c.pipe = std::move(pipe);
  c.resume = at_.resume;
  c.width = width != 0 ? width : at_.width;
  c.seed = draw();
  c.trace = at_.trace;
  const auto k = children_.size();
  index_of_.emplace(id, k);
  children_.push_back(child{std::move(id), nullptr, nullptr, false, true});
  ++active_;
  emit(spawn_child{k, std::move(c)});
}

void machine::on_child_ended(child_ended ended) {
  auto it = index_of_.find(ended.record->id);
  if (it == index_of_.end()) return;
  auto& c = children_[it->second];
  if (c.done) return;  // already ended by force
  c.done = true;
  if (!has_current(it->second)) return;  // of an earlier attempt (cannot be active any more)
  c.result = ended.record;
  c.exports = std::move(ended.exports);
  --active_;
  const auto& r = *ended.record;

  if (ph_ == phase::fallback) {
    on_fallback_ended(r);
    return;
  }
  if (ph_ == phase::draining) {
    if (active_ == 0) resolve_failure();
    return;
  }
  if (ph_ != phase::running) return;

  switch (step_.kind) {
    case step_kind::chain:
      if (!ended_well(r)) {
        attempt_failed(error_of(r));  // a chain stops at its first unrecovered failure
        return;
      }
      remember(c.result, c.exports);
      if (r.status != run_status::skipped) {  // skipped steps are transparent to prev and the pipe
        prev_ = c.result;
        pipe_ = r.output;
      }
      start_next_chain_child();
      return;
    case step_kind::parallel:
    case step_kind::for_each:
      if (!ended_well(r) && (step_.kind == step_kind::for_each || step_.options.fail_fast)) {
        attempt_failed(error_of(r));  // fail fast: the others are cancelled
        return;
      }
      if (step_.kind == step_kind::for_each) start_next_elements();
      if (ph_ == phase::running && active_ == 0) complete_members();
      return;
    case step_kind::operation:
      return;
  }
}

void machine::remember(const record_ptr& r, const std::shared_ptr<const export_list>& exports) {
  // Copy on write: a child that has not let go of the frame yet (a cancelled one) keeps the old one.
  if (local_.use_count() > 1) local_ = std::make_shared<frame>(*local_);
  auto& f = *local_;
  if (exports)
    for (const auto& [name, rec] : *exports) f.steps[name] = rec;
  if (!r->step_id.empty()) f.steps[r->step_id] = r;
}

void machine::start_next_chain_child() {
  const auto& steps = step_.chain_children();
  if (next_ >= steps.size()) {
    json ids = json::array();
    for (std::size_t i = first_; i < children_.size(); ++i) ids.push_back(children_[i].id);
    // A call by name outputs the called chain's result, what its outputSchema describes.
    rec_.output = step_.call ? (pipe_ ? pipe_ : share(json()))
                             : share(json{{"steps", std::move(ids)}, {"success", true}, {"last", deref(pipe_)}});
    finish(run_status::completed);
    return;
  }
  auto i = next_++;
  // parentRunId (docs/engine.md): the chain run for the first step, the previous step after that.
  std::string parent_id = children_.size() == first_ ? rec_.id : children_.back().id;
  spawn(steps[i], static_cast<int>(i), std::move(parent_id), local_, prev_, pipe_);
}

void machine::start_next_elements() {
  const auto& items = deref(items_);
  auto limit = step_.options.concurrency == 0 ? items.size() : step_.options.concurrency;
  while (next_ < items.size() && active_ < limit) {
    auto i = next_++;
    auto f = std::make_shared<frame>();
    f->parent = at_.scope;
    f->name = step_.as;
    f->value = share(items[i]);
    auto element = f->value;
    spawn(step_.body, static_cast<int>(i), rec_.parent_run_id, std::move(f), at_.prev, std::move(element), element_width_);
  }
}

void machine::complete_members() {
  std::optional<run_error> first_failure;
  json out = step_.kind == step_kind::parallel ? json::object() : json::array();
  for (std::size_t i = first_; i < children_.size(); ++i) {
    const auto& r = *children_[i].result;
    if (!ended_well(r) && !first_failure) first_failure = error_of(r);  // wait-all: the first failure
    if (step_.kind == step_kind::parallel)
      out[r.step_id] = deref(r.output);
    else
      out.push_back(deref(r.output));
  }
  if (first_failure) {
    attempt_failed(*first_failure);
    return;
  }
  rec_.output = share(std::move(out));
  finish(run_status::completed);
}

}  // namespace coworker::run

// The run actor: one per run. It evaluates `if`, resolves the input, runs its attempts (an
// operation, a chain of children, a parallel group or a forEach), retries, times out, runs its
// onError fallback, and reports its final record to its parent. A run actor that ends any other
// way reports its death from its state's destructor (below), so any
// death becomes a failed record; nothing is left `running`. The children live in
// run_children.cpp, handler calls in run_operation.cpp.
#include <algorithm>
#include <exception>

#include "core/element_budget.hpp"
#include "core/retry.hpp"
#include "run_state.hpp"

namespace coworker {
namespace run_detail {

run_error make_run_error(const run_state& st, std::string code, std::string message, std::string path) {
  return run_error{std::move(code), std::move(message), st.rec.id, st.rec.operation, std::move(path)};
}

run_error error_of(const run_record& r) {
  if (r.err) return *r.err;
  return run_error{codes::internal, "run ended " + std::string(to_string(r.status)), r.id, r.operation, {}};
}

std::string step_label(const run_state& st) {
  if (!st.step->id.empty()) return "step '" + st.step->id + "'";
  return "step at " + (st.step->pointer.empty() ? std::string("/") : st.step->pointer);
}

// --- ending -------------------------------------------------------------------------------------

void finish(run_actor* self, run_status status) {
  auto& st = self->state;
  if (st.ph == phase::done) return;
  st.ph = phase::done;
  st.resp.mark_done();
  st.rec.status = status;
  st.rec.finished = now_ms();
  st.rec.success = status == run_status::completed;
  if (status == run_status::completed) st.rec.err.reset();
  auto snap = std::make_shared<const run_record>(st.rec);

  std::shared_ptr<const export_list> exports;
  if (st.step->kind != step_kind::operation && status == run_status::completed) {
    auto list = std::make_shared<export_list>();
    if (st.step->kind == step_kind::chain && st.local) {
      list->assign(st.local->steps.begin(), st.local->steps.end());
    } else {
      // Group members, or the body runs of a forEach's last element.
      std::size_t from = st.step->kind == step_kind::for_each && !st.slots.empty() ? st.slots.size() - 1 : 0;
      for (std::size_t i = from; i < st.slots.size(); ++i) {
        const auto& s = st.slots[i];
        if (!s.result) continue;
        if (!s.result->step_id.empty()) list->emplace_back(s.result->step_id, s.result);
        if (s.exports) list->insert(list->end(), s.exports->begin(), s.exports->end());
      }
    }
    exports = std::move(list);
  }
  // Let go of the parent's frame before answering, so the parent can extend it without copying.
  st.local.reset();
  st.spec.scope.reset();
  st.spec.prev.reset();
  st.prev.reset();

  if (!st.spec.parent && st.spec.resume) {
    // Runs recorded before the restart that this run did not take up again end as cancelled.
    for (const auto& [id, old] : st.spec.resume->by_id)
      if (id != st.rec.id)
        st.spec.core->registry->force_finish(
            id, run_status::cancelled, run_error{codes::cancelled, "abandoned when the chain resumed after a restart", id, {}, {}});
  }
  st.spec.core->registry->finished(snap);
  if (st.spec.parent) self->send(st.spec.parent, done_atom::value, run_result{snap, std::move(exports)});
  if (!st.spec.parent) st.spec.core->leave(st.rec.id);  // a top chain, entered by the engine
  self->quit();
}

void fail_final(run_actor* self);
void begin_attempt(run_actor* self);

/// The current attempt is over with `st.failure` and no child is active: retry or give up.
void resolve_failure(run_actor* self) {
  auto& st = self->state;
  if (st.cancelling) {
    st.rec.err = st.failure;
    finish(self, run_status::cancelled);
    return;
  }
  if (st.step->options.retry) {
    if (auto delay = retry_delay(*st.step->options.retry, st.rec.attempts, st.failure->code)) {
      st.ph = phase::waiting_retry;
      self->delayed_send(self, *delay, retry_atom::value, st.token);
      return;
    }
  }
  fail_final(self);
}

/// Asks every active child to cancel and waits (bounded by cancel_grace) for their records.
void drain(run_actor* self) {
  auto& st = self->state;
  st.ph = phase::draining;
  for (auto& s : st.slots)
    if (!s.done && s.actor) self->send(s.actor, cancel_atom::value);
  self->delayed_send(self, st.spec.core->cancel_grace, drained_atom::value, ++st.drain_token);
}

void attempt_failed(run_actor* self, run_error err) {
  auto& st = self->state;
  if (st.ph == phase::done) return;
  st.resp.mark_done();
  if (!st.failure || st.ph == phase::running) st.failure = std::move(err);
  if (st.active > 0) {
    if (st.ph != phase::draining) drain(self);
    return;
  }
  resolve_failure(self);
}

// --- attempts -------------------------------------------------------------------------------------

void begin_attempt(run_actor* self) {
  auto& st = self->state;
  if (st.ph == phase::waiting_retry) st.adopting = false;  // a retry runs everything afresh
  st.ph = phase::running;
  st.failure.reset();
  st.slots.clear();
  st.slot_of.clear();
  st.active = 0;
  st.next = 0;
  ++st.token;
  if (!st.counted) ++st.rec.attempts;
  st.counted = false;
  if (auto t = attempt_timeout_ms(st))
    self->delayed_send(self, std::chrono::milliseconds(t), timeout_atom::value, st.token);

  switch (st.step->kind) {
    case step_kind::operation:
      run_operation(self);
      return;
    case step_kind::chain: {
      auto f = std::make_shared<frame>();
      f->parent = st.spec.scope;
      f->name = "input";
      f->value = st.input;
      st.local = std::move(f);
      st.prev = st.spec.prev;
      st.pipe = st.input;  // the first step receives what the chain received
      start_next_chain_child(self);
      return;
    }
    case step_kind::parallel: {
      if (st.step->children.empty()) {
        complete_members(self);
        return;
      }
      int i = 0;
      const auto width = saturating_product(st.spec.width, st.step->children.size());
      for (const auto& m : st.step->children)
        spawn_child(self, m, i++, st.rec.parent_run_id, st.spec.scope, st.spec.prev, st.input, width);
      return;
    }
    case step_kind::for_each: {
      frame_scope scope(st.spec.scope.get(), st.spec.prev.get());
      auto items = st.step->for_each.resolve(scope);
      if (!items) {
        const auto& e = items.error();
        attempt_failed(self, make_run_error(st, e.code, e.message, e.path));
        return;
      }
      if (!items->is_array()) {
        attempt_failed(self, make_run_error(st, codes::invalid_input,
                                            "forEach needs an array, got " + std::string(items->type_name()),
                                            st.step->pointer + "/forEach"));
        return;
      }
      st.items = share(std::move(*items));
      if (deref(st.items).empty()) {
        st.rec.output = share(json::array());
        finish(self, run_status::completed);
        return;
      }
      // limits.chainElements is decided here, before any element runs.
      auto width = for_each_width(st.spec.width, deref(st.items).size(), st.step->options.concurrency,
                                  st.spec.core->lim.max_chain_elements);
      if (!width) {
        attempt_failed(self, make_run_error(st, width.error().code, width.error().message, st.step->pointer + "/forEach"));
        return;
      }
      st.element_width = *width;
      start_next_element(self);
      return;
    }
  }
}

void fail_final(run_actor* self) {
  auto& st = self->state;
  st.rec.err = st.failure;
  if (!st.step->on_error) {
    finish(self, run_status::failed);
    return;
  }
  // onError runs as a child of the failed run: `prev` is the failed run, `{{error}}` its error.
  st.ph = phase::fallback;
  st.slots.clear();
  st.slot_of.clear();
  st.active = 0;
  auto failed = std::make_shared<run_record>(st.rec);
  failed->status = run_status::failed;
  auto err = share(to_json(*st.failure));
  auto f = std::make_shared<frame>();
  f->parent = st.spec.scope;
  f->name = "error";
  f->value = err;
  if (!st.step->id.empty()) f->steps[st.step->id] = failed;  // `{{send.error}}` inside send's onError
  spawn_child(self, st.step->on_error, -1, st.rec.id, std::move(f), std::move(failed), err);
}

void start(run_actor* self) {
  auto& st = self->state;
  const auto& step = *st.step;
  auto& r = st.rec;
  r.id = st.spec.id;
  r.operation = step.operation;
  r.doctype = step.doctype;
  r.step_id = step.id;
  r.step_index = st.spec.step_index;
  r.created = now_ms();
  r.parent_run_id = st.spec.parent_run_id;
  r.owner_run_id = st.spec.owner_run_id;
  r.chain_id = st.spec.chain_id.empty() ? r.id : st.spec.chain_id;
  r.role = step.role;
  r.keep_alive = step.options.keep_alive.value_or(step.operation == "message");

  if (st.spec.resume) {
    auto old = st.spec.resume->by_id.find(st.spec.id);
    if (old != st.spec.resume->by_id.end()) {
      // Resumed after a restart: its `if` and input were settled before; run the attempt again.
      st.adopting = true;
      r.created = old->second->created;
      r.attempts = old->second->attempts;
      st.input = old->second->input;
      r.input = st.input;
      r.status = run_status::running;
      r.started = old->second->started ? old->second->started : now_ms();
      ++r.attempts;  // before:run shows the attempt that starts
      st.counted = true;
      st.spec.core->registry->started(std::make_shared<const run_record>(r));
      begin_attempt(self);
      return;
    }
  }
  frame_scope scope(st.spec.scope.get(), st.spec.prev.get());
  if (step.when) {
    auto ok = step.when->evaluate(scope);
    if (ok && !*ok) {
      finish(self, run_status::skipped);
      return;
    }
    if (!ok) {
      const auto& e = ok.error();
      st.failure = make_run_error(st, e.code, e.message, e.path);
      fail_final(self);
      return;
    }
  }
  if (step.has_input) {
    auto in = step.input.constant() ? expected<json>(step.input.source()) : step.input.resolve(scope);
    if (!in) {
      const auto& e = in.error();
      st.failure = make_run_error(st, e.code, e.message, e.path);
      fail_final(self);
      return;
    }
    if (approx_size(*in, st.spec.core->lim.max_value_bytes) > st.spec.core->lim.max_value_bytes) {
      st.failure = make_run_error(st, codes::too_large, "the resolved input is larger than the limit",
                                  step.pointer + "/input");
      fail_final(self);
      return;
    }
    st.input = share(std::move(*in));
  } else {
    st.input = st.spec.pipe;
  }
  r.input = st.input;
  r.status = run_status::running;
  r.started = now_ms();
  ++r.attempts;  // before:run shows the attempt that starts
  st.counted = true;
  st.spec.core->registry->started(std::make_shared<const run_record>(r));
  begin_attempt(self);
}

void cancel(run_actor* self) {
  auto& st = self->state;
  if (st.ph == phase::done || st.cancelling) return;
  st.cancelling = true;
  st.resp.mark_done();
  st.failure = make_run_error(st, codes::cancelled, "cancelled");
  if (st.active > 0) {
    if (st.ph != phase::draining) drain(self);
    return;
  }
  resolve_failure(self);
}

run_state::~run_state() {
  if (ph == phase::done || !spec.core || rec.id.empty()) return;  // ended well, or never started
  for (auto& s : slots)
    if (!s.done && s.actor) caf::anon_send_exit(s.actor, caf::exit_reason::kill);
  if (!spec.parent) {  // a top chain: whoever killed it records its end (engine shutdown)
    spec.core->leave(rec.id);
    return;
  }
  spec.core->registry->force_finish(
      rec.id, run_status::failed, run_error{codes::internal, "the run's actor ended unexpectedly", rec.id, rec.operation, {}});
  auto r = spec.core->registry->get(rec.id);
  if (r) caf::anon_send(spec.parent, done_atom::value, run_result{std::move(r), nullptr});
}

caf::behavior run_behavior(run_actor* self, run_spec spec) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.step = st.spec.step.get();
  self->set_exception_handler([self](std::exception_ptr& ep) -> caf::error {
    // A bug of ours must still end as a failed record, never a silent death.
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    auto& s = self->state;
    for (auto& c : s.slots)
      if (!c.done && c.actor) self->send(c.actor, cancel_atom::value);
    s.rec.err = make_run_error(s, codes::internal, "internal error: " + what);
    finish(self, run_status::failed);
    return caf::exit_reason::normal;
  });
  start(self);
  return {
      [self](done_atom, run_result& res) { on_child_done(self, std::move(res)); },
      [self](opdone_atom, op_outcome& o) { on_op_result(self, o.token, std::move(*o.result)); },
      [self](timeout_atom, std::uint64_t tok) {
        auto& s = self->state;
        if (tok != s.token || s.ph != phase::running) return;
        attempt_failed(self, make_run_error(s, codes::timeout,
                                            step_label(s) + " timed out after " +
                                                std::to_string(attempt_timeout_ms(s)) + " ms"));
      },
      [self](retry_atom, std::uint64_t tok) {
        if (tok == self->state.token && self->state.ph == phase::waiting_retry) begin_attempt(self);
      },
      [self](drained_atom, std::uint64_t tok) { on_drained(self, tok); },
      [self](cancel_atom) { cancel(self); },
      [self](cancel_atom, std::string& run_id) {
        if (run_id == self->state.rec.id) {
          cancel(self);
        } else if (self->state.ph != phase::done) {
          cancel_below(self, run_id);
        }
      },
  };
}

}  // namespace run_detail

caf::actor spawn_run(caf::actor_system& sys, run_spec spec) {
  auto* core = spec.core;
  auto id = spec.id;
  auto a = sys.spawn(run_detail::run_behavior, std::move(spec));
  core->enter(id, a);
  return a;
}

}  // namespace coworker

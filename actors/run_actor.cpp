// The run actor: one per run. It evaluates `if`, resolves the input, runs its attempts (an
// operation, a chain of children, a parallel group or a forEach), retries, times out, runs its
// onError fallback, and reports its final record to its parent. Children are monitored, so any
// death becomes a failed record; nothing is left `running`.
#include <algorithm>
#include <exception>
#include <unordered_map>

#include "atoms.hpp"
#include "core/retry.hpp"
#include "engine_core.hpp"

namespace coworker {
namespace {

using chain::step_kind;

enum class phase { running, draining, waiting_retry, fallback, done };

struct child_slot {
  std::string id;
  caf::actor actor;
  record_ptr result;
  std::shared_ptr<const export_list> exports;
  bool done = false;
};

struct run_state {
  run_spec spec;
  const chain::step* step = nullptr;
  run_record rec;
  phase ph = phase::running;
  bool entered = false;     ///< listed in the engine's directory (lives past its first message)
  bool cancelling = false;
  bool adopting = false;    ///< resuming after a restart: take recorded children instead of rerunning
  bool counted = false;     ///< the coming attempt is already counted in rec.attempts
  int worker_losses = 0;    ///< attempts restarted because their remote worker was lost
  std::uint64_t token = 0;  ///< the current attempt; stale timers and answers carry older ones
  std::uint64_t drain_token = 0;
  value_ptr input;
  std::optional<run_error> failure;
  responder resp;

  // Children of the current attempt (and the fallback).
  std::vector<child_slot> slots;
  std::unordered_map<std::string, std::size_t> slot_of;
  std::unordered_map<caf::actor_addr, std::string> id_of;
  std::size_t active = 0;
  std::size_t next = 0;

  // Chains: the names their steps see, and the flow.
  std::shared_ptr<frame> local;
  record_ptr prev;
  value_ptr pipe;
  // forEach: the items.
  value_ptr items;

  static inline const char* name = "coworker.run";
};

using run_actor = caf::stateful_actor<run_state>;

caf::behavior run_behavior(run_actor* self, run_spec spec);

run_error make_run_error(const run_state& st, std::string code, std::string message, std::string path = {}) {
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
  if (st.entered) st.spec.core->leave(st.rec.id);
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

// --- children -------------------------------------------------------------------------------------

std::size_t spawn_child(run_actor* self, const chain::step_ptr& step, int index, std::string parent_run_id,
                        std::shared_ptr<const frame> scope, record_ptr prev, value_ptr pipe,
                        std::shared_ptr<void> element_ticket = {}) {
  auto& st = self->state;
  run_spec cs;
  cs.core = st.spec.core;
  cs.step = step;
  cs.id = new_run_id();
  cs.resume = st.spec.resume;
  if (st.adopting) {
    if (auto old = st.spec.resume->child(st.rec.id, index)) {
      if (is_final(old->status)) {
        // Finished before the restart: taken as it is, never run again.
        st.rec.child_run_ids.push_back(old->id);
        st.slot_of.emplace(old->id, st.slots.size());
        st.slots.push_back(child_slot{old->id, caf::actor{}, nullptr, nullptr, false});
        ++st.active;
        self->send(self, done_atom::value, run_result{old, st.spec.resume->exports_below(old->id)});
        return st.slots.size() - 1;
      }
      cs.id = old->id;  // was running: run again in place
    }
  }
  cs.chain_id = st.rec.chain_id;
  cs.elements = st.spec.elements;
  cs.element_ticket = std::move(element_ticket);
  cs.parent_run_id = std::move(parent_run_id);
  cs.owner_run_id = st.rec.id;
  cs.step_index = index;
  cs.scope = std::move(scope);
  cs.prev = std::move(prev);
  cs.pipe = std::move(pipe);
  cs.parent = caf::actor_cast<caf::actor>(self);
  auto id = cs.id;
  st.rec.child_run_ids.push_back(id);
  auto child = self->spawn(run_behavior, std::move(cs));
  self->monitor(child);
  st.id_of.emplace(child.address(), id);
  st.slot_of.emplace(id, st.slots.size());
  st.slots.push_back(child_slot{std::move(id), std::move(child), nullptr, nullptr, false});
  ++st.active;
  return st.slots.size() - 1;
}

frame& local_frame(run_state& st) {
  // Copy on write: a child that has not let go yet (a cancelled one) keeps the old version.
  if (st.local.use_count() > 1) st.local = std::make_shared<frame>(*st.local);
  return *st.local;
}

void remember(run_state& st, const record_ptr& r, const std::shared_ptr<const export_list>& exports) {
  auto& f = local_frame(st);
  if (exports)
    for (const auto& [name, rec] : *exports) f.steps[name] = rec;
  if (!r->step_id.empty()) f.steps[r->step_id] = r;
}

bool ended_well(const run_record& r) {
  return r.status == run_status::completed || r.status == run_status::skipped ||
         (r.status == run_status::failed && r.recovered);
}

void start_next_chain_child(run_actor* self) {
  auto& st = self->state;
  const auto& children = st.step->children;
  if (st.next >= children.size()) {
    json steps = json::array();
    for (const auto& s : st.slots) steps.push_back(s.id);
    st.rec.output = share(json{{"steps", std::move(steps)}, {"success", true}, {"last", deref(st.pipe)}});
    finish(self, run_status::completed);
    return;
  }
  auto i = st.next++;
  // parentRunId (SPEC §5): the chain run for the first child, the previous sibling after that.
  std::string parent_id = st.slots.empty() ? st.rec.id : st.slots.back().id;
  spawn_child(self, children[i], static_cast<int>(i), std::move(parent_id), st.local, st.prev, st.pipe);
}

void start_next_element(run_actor* self) {
  auto& st = self->state;
  const auto& items = deref(st.items);
  auto limit = st.step->options.concurrency == 0 ? items.size() : st.step->options.concurrency;
  if (!st.spec.elements) st.spec.elements = std::make_shared<std::atomic<std::size_t>>(0);
  const auto cap = st.spec.core->lim.max_chain_elements;
  while (st.next < items.size() && st.active < limit) {
    // Nested forEach multiply: bound what one chain has in flight, whatever its document says.
    if (cap && st.spec.elements->fetch_add(1) >= cap) {
      st.spec.elements->fetch_sub(1);
      attempt_failed(self, make_run_error(st, codes::too_large,
                                          "the chain has " + std::to_string(cap) +
                                              " forEach elements in flight already (limits.chainElements); "
                                              "set options.concurrency on the forEach"));
      return;
    }
    auto i = st.next++;
    auto f = std::make_shared<frame>();
    f->parent = st.spec.scope;
    f->name = st.step->as;
    f->value = share(items[i]);
    auto element = f->value;
    // The element's place is given back when its run actor is gone, however it ended.
    std::shared_ptr<void> ticket(static_cast<void*>(nullptr),
                                 [c = st.spec.elements](void*) { c->fetch_sub(1); });
    spawn_child(self, st.step->body, static_cast<int>(i), st.rec.parent_run_id, std::move(f), st.spec.prev,
                std::move(element), std::move(ticket));
  }
}

void complete_members(run_actor* self) {
  auto& st = self->state;
  std::optional<run_error> first_failure;
  json out = st.step->kind == step_kind::parallel ? json::object() : json::array();
  for (const auto& s : st.slots) {
    const auto& r = *s.result;
    if (!ended_well(r) && !first_failure) first_failure = error_of(r);
    if (st.step->kind == step_kind::parallel)
      out[r.step_id] = deref(r.output);
    else
      out.push_back(deref(r.output));
  }
  if (first_failure) {
    attempt_failed(self, *first_failure);
    return;
  }
  st.rec.output = share(std::move(out));
  finish(self, run_status::completed);
}

void on_fallback_done(run_actor* self, const run_record& r) {
  auto& st = self->state;
  if (st.cancelling) {
    finish(self, run_status::cancelled);
    return;
  }
  if (r.status == run_status::completed || (r.status == run_status::failed && r.recovered)) {
    st.rec.recovered = true;
    st.rec.output = r.output;
  }
  finish(self, run_status::failed);
}

void on_child_done(run_actor* self, run_result res) {
  auto& st = self->state;
  auto it = st.slot_of.find(res.record->id);
  if (it == st.slot_of.end()) return;
  auto& slot = st.slots[it->second];
  if (slot.done) return;  // already ended by force
  slot.done = true;
  slot.result = res.record;
  slot.exports = res.exports;
  --st.active;
  const auto& r = *res.record;

  if (st.ph == phase::fallback) {
    on_fallback_done(self, r);
    return;
  }
  if (st.ph == phase::draining) {
    if (st.active == 0) resolve_failure(self);
    return;
  }
  if (st.ph != phase::running) return;

  switch (st.step->kind) {
    case step_kind::chain:
      if (!ended_well(r)) {
        attempt_failed(self, error_of(r));  // a chain stops at its first unrecovered failure
        return;
      }
      remember(st, res.record, res.exports);
      if (r.status != run_status::skipped) {  // skipped steps are transparent to prev and the pipe
        st.prev = res.record;
        st.pipe = r.output;
      }
      start_next_chain_child(self);
      return;
    case step_kind::parallel:
    case step_kind::for_each:
      if (!ended_well(r) && (st.step->kind == step_kind::for_each || st.step->options.fail_fast)) {
        attempt_failed(self, error_of(r));  // fail fast: the others are cancelled
        return;
      }
      if (st.step->kind == step_kind::for_each) start_next_element(self);
      if (st.ph == phase::running && st.active == 0) complete_members(self);  // (the limit may end it)
      return;
    case step_kind::operation:
      return;
  }
}

void on_child_down(run_actor* self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto it = st.id_of.find(dm.source);
  if (it == st.id_of.end()) return;
  auto id = it->second;
  st.id_of.erase(it);
  auto slot = st.slot_of.find(id);
  if (slot == st.slot_of.end() || st.slots[slot->second].done) return;
  // The child died without reporting: record its death as a failure.
  auto reason = self->system().render(dm.reason);
  st.spec.core->registry->force_finish(
      id, run_status::failed, run_error{codes::internal, "the run's actor ended unexpectedly: " + reason, id, {}, {}});
  auto rec = st.spec.core->registry->get(id);
  if (!rec) {
    auto r = std::make_shared<run_record>();
    r->id = id;
    r->status = run_status::failed;
    r->err = run_error{codes::internal, "the run's actor ended unexpectedly", id, {}, {}};
    rec = std::move(r);
  }
  on_child_done(self, run_result{std::move(rec), nullptr});
}

void on_drained(run_actor* self, std::uint64_t tok) {
  auto& st = self->state;
  if (tok != st.drain_token || st.ph != phase::draining) return;
  // Children that did not answer the cancel in time are ended by force.
  for (auto& s : st.slots) {
    if (s.done) continue;
    st.spec.core->registry->force_finish(
        s.id, run_status::cancelled, run_error{codes::cancelled, "cancelled (did not stop in time)", s.id, {}, {}});
    s.done = true;
    s.result = st.spec.core->registry->get(s.id);
    --st.active;
  }
  resolve_failure(self);
}

/// The step's own `options.timeoutMs`, else for an operation step the engine's default step timeout
/// (limits::step_timeout_ms), so that a handler that never returns cannot keep a run forever; 0: none.
std::int64_t attempt_timeout_ms(const run_state& st) {
  if (st.step->options.timeout_ms) return *st.step->options.timeout_ms;
  if (st.step->kind == step_kind::operation) return static_cast<std::int64_t>(st.spec.core->lim.step_timeout_ms);
  return 0;
}

// --- operations -----------------------------------------------------------------------------------

expected<json> call_sync(const operation& op, const op_request& req) {
  try {
    return op.sync(req);
  } catch (const std::exception& e) {
    return make_error(codes::handler_error, "operation '" + op.name + "' threw: " + e.what());
  } catch (...) {
    return make_error(codes::handler_error, "operation '" + op.name + "' threw a non-standard exception");
  }
}

void on_op_result(run_actor* self, std::uint64_t tok, expected<json> result) {
  auto& st = self->state;
  if (tok != st.token || st.ph != phase::running) return;  // a late answer of an earlier attempt
  if (!result) {
    const auto& e = result.error_value();
    // A remote worker died holding this attempt: while someone still serves the operation, run a
    // new attempt (counted in attempts) on another worker, outside the step's retry policy.
    if (e.code == codes::worker_lost && st.worker_losses++ < 10 && st.spec.core->ops->find(st.step->operation)) {
      begin_attempt(self);
      return;
    }
    attempt_failed(self, make_run_error(st, e.code.empty() ? codes::handler_error : e.code, e.message, e.path));
    return;
  }
  if (approx_size(*result, st.spec.core->lim.max_value_bytes) > st.spec.core->lim.max_value_bytes) {
    attempt_failed(self, make_run_error(st, codes::too_large,
                                        "the output is larger than " +
                                            std::to_string(st.spec.core->lim.max_value_bytes) + " bytes"));
    return;
  }
  st.rec.output = share(std::move(*result));
  finish(self, run_status::completed);
}

void run_operation(run_actor* self) {
  auto& st = self->state;
  auto op = st.spec.core->ops->find(st.step->operation);
  if (!op) {
    attempt_failed(self, make_run_error(st, codes::unknown_operation,
                                        "no handler serves operation '" + st.step->operation + "'"));
    return;
  }
  op_request req{st.step->operation, st.step->doctype, st.step->role, st.rec.id,   st.rec.chain_id,
                 st.step->id,        st.rec.attempts,  st.input, 0};
  if (auto t = attempt_timeout_ms(st)) req.deadline = now_ms() + t;
  if (op->mode == handler_mode::inline_sync) {
    on_op_result(self, st.token, call_sync(*op, req));
    return;
  }
  auto tok = st.token;
  st.resp = responder([h = caf::actor_cast<caf::actor>(self), tok](expected<json> r) {
    caf::anon_send(h, opdone_atom::value, op_outcome{tok, std::make_shared<expected<json>>(std::move(r))});
  });
  if (op->mode == handler_mode::blocking_sync) {
    st.spec.core->blocking->post([op, req = std::move(req), r = st.resp] {
      if (!r.done()) r.complete(call_sync(*op, req));
    });
    return;
  }
  try {
    op->async(req, st.resp);
  } catch (const std::exception& e) {
    st.resp.fail(make_error(codes::handler_error, "operation '" + op->name + "' threw: " + e.what()));
  } catch (...) {
    st.resp.fail(make_error(codes::handler_error, "operation '" + op->name + "' threw"));
  }
}

// --- attempts -------------------------------------------------------------------------------------

void begin_attempt(run_actor* self) {
  auto& st = self->state;
  if (st.ph == phase::waiting_retry) st.adopting = false;  // a retry runs everything afresh
  st.ph = phase::running;
  st.failure.reset();
  st.slots.clear();
  st.slot_of.clear();
  st.id_of.clear();
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
      for (const auto& m : st.step->children)
        spawn_child(self, m, i++, st.rec.parent_run_id, st.spec.scope, st.spec.prev, st.input);
      return;
    }
    case step_kind::for_each: {
      frame_scope scope(st.spec.scope.get(), st.spec.prev.get());
      auto items = st.step->for_each.resolve(scope);
      if (!items) {
        const auto& e = items.error_value();
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
  st.id_of.clear();
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
      const auto& e = ok.error_value();
      st.failure = make_run_error(st, e.code, e.message, e.path);
      fail_final(self);
      return;
    }
  }
  if (step.has_input) {
    auto in = step.input.constant() ? expected<json>(step.input.source()) : step.input.resolve(scope);
    if (!in) {
      const auto& e = in.error_value();
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

caf::behavior run_behavior(run_actor* self, run_spec spec) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.step = st.spec.step.get();
  self->set_down_handler([self](caf::down_msg& dm) { on_child_down(self, dm); });
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
  if (st.ph != phase::done) {
    st.entered = true;
    st.spec.core->enter(st.rec.id, caf::actor_cast<caf::actor>(self), !st.spec.parent);
  }
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
  };
}

}  // namespace

caf::actor spawn_run(caf::actor_system& sys, run_spec spec) { return sys.spawn(run_behavior, std::move(spec)); }

}  // namespace coworker

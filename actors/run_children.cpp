// The children of a run: a chain's steps one after another, a parallel group's members at once, a
// forEach's elements (bounded by options.concurrency and limits.chainElements), an onError fallback;
// their ends, their deaths, and the drain of a failed or cancelled attempt.
#include "run_state.hpp"

namespace coworker::run_detail {

// --- children -------------------------------------------------------------------------------------

std::size_t spawn_child(run_actor* self, const chain::step_ptr& step, int index, std::string parent_run_id,
                        std::shared_ptr<const frame> scope, record_ptr prev, value_ptr pipe,
                        std::size_t width) {
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
  cs.width = width != 0 ? width : st.spec.width;
  cs.parent_run_id = std::move(parent_run_id);
  cs.owner_run_id = st.rec.id;
  cs.step_index = index;
  cs.scope = std::move(scope);
  cs.prev = std::move(prev);
  cs.pipe = std::move(pipe);
  cs.parent = caf::actor_cast<caf::actor>(self);
  auto id = cs.id;
  st.rec.child_run_ids.push_back(id);
  auto child = self->spawn(run_behavior, std::move(cs));  // no monitor: ~run_state reports a death
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
  while (st.next < items.size() && st.active < limit) {
    auto i = st.next++;
    auto f = std::make_shared<frame>();
    f->parent = st.spec.scope;
    f->name = st.step->as;
    f->value = share(items[i]);
    auto element = f->value;
    spawn_child(self, st.step->body, static_cast<int>(i), st.rec.parent_run_id, std::move(f), st.spec.prev,
                std::move(element), st.element_width);
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

void cancel_below(run_actor* self, const std::string& run_id) {
  auto& st = self->state;
  if (auto it = st.slot_of.find(run_id); it != st.slot_of.end()) {
    auto& s = st.slots[it->second];
    if (!s.done && s.actor) self->send(s.actor, cancel_atom::value);
    return;
  }
  // Further down: ask every active child (a cancel by id is rare; a tree is small next to it).
  for (auto& s : st.slots)
    if (!s.done && s.actor) self->send(s.actor, cancel_atom::value, run_id);
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

}  // namespace coworker::run_detail

// The run actor: one per run, a thin shell around run::machine (src/run/machine.hpp), which decides
// everything. The actor turns messages into the machine's events and carries out its actions:
// spawning children, calling handlers, starting timers, publishing records, telling its parent.
// A run actor that ends any other way than through the machine's end (killed, or dead past its
// exception handler) reports its death from its state's destructor, so any death becomes a
// failed record and nothing is left `running` (docs/engine.md).
#include <exception>
#include <stdexcept>
#include <unordered_map>

#include "atoms.hpp"
#include "engine_core.hpp"

namespace coworker {
namespace {

/// One machine the actor carries: its own run's, or a child's it hosts (below).
struct slot {
  std::optional<run::machine> machine;
  responder resp;  ///< the current attempt's handler call
  /// Its timers, cancelled when the run ends: a pending timer holds the actor (and its memory)
  /// until it fires, and the default step timeout is an hour.
  std::vector<timer_service::id> timers;
  /// Events that came up while it handled one (an inline handler's answer, a hosted child's end):
  /// handled in order once the current actions are carried out.
  std::vector<run::event> pending;
  /// The attempt timeout the machine asked for, armed only if the attempt is still out once the
  /// actions are carried out: an inline handler has answered by then, and arming and cancelling an
  /// hour's timer for each step would cost more than the step.
  std::optional<run::start_timer> attempt_timer;
  bool busy = false;
};

/// The index of the actor's own run among its slots; a hosted child's slot is its child index.
constexpr std::size_t own_slot = static_cast<std::size_t>(-1);
static_assert(sizeof(std::size_t) == sizeof(std::uint64_t), "slots travel in messages as uint64");

// An operation step whose handler is inline_sync runs in its parent's actor, as a hosted slot
// (docs/engine.md, "Actors"): it answers within the message that starts it, so an actor of its
// own would only cost a spawn, a message and a destruction. A hosted child is still a run with
// its own machine, record and events; its timers (retries) and cancels reach it through its host.
struct run_state {
  engine_core* core = nullptr;
  caf::actor parent;
  slot own;
  std::vector<caf::actor> children;  ///< by the machine's child index; empty for a hosted child or one taken as recorded
  std::unordered_map<std::size_t, std::unique_ptr<slot>> hosted;  ///< by child index, while they run

  static inline const char* name = "coworker.run";

  run_state() = default;
  run_state(const run_state&) = delete;
  run_state& operator=(const run_state&) = delete;
  ~run_state();

  slot* find(std::size_t index) {
    if (index == own_slot) return &own;
    auto it = hosted.find(index);
    return it == hosted.end() ? nullptr : it->second.get();
  }
  void cancel_timers(slot& s) {
    for (auto t : s.timers) core->timers->cancel(t);
    s.timers.clear();
    s.attempt_timer.reset();
  }
};

using run_actor = caf::stateful_actor<run_state>;

caf::behavior run_behavior(run_actor* self, run_spec spec);

expected<json> call_sync(const operation& op, const op_request& req) {
  try {
    return op.sync(req);
  } catch (const std::exception& e) {
    return make_error(codes::handler_error, "operation '" + op.name + "' threw: " + e.what());
  } catch (...) {
    return make_error(codes::handler_error, "operation '" + op.name + "' threw a non-standard exception");
  }
}

void feed(run_actor* self, std::size_t index, run::event ev);

/// Calls the operation's handler: inline (its answer is the next event), on the blocking pool, or
/// asynchronously through a responder (its answer comes back as a message).
void call(run_actor* self, std::size_t index, slot& s, run::call_operation& c) {
  auto& st = self->state;
  auto op = st.core->ops->find(c.request.operation);
  if (!op) {
    feed(self, index, run::operation_missing{c.attempt});  // handled once the current actions are carried out
    return;
  }
  if (op->mode == handler_mode::inline_sync) {
    feed(self, index, run::operation_answered{c.attempt, call_sync(*op, c.request), true});
    return;
  }
  s.resp = responder([h = caf::actor_cast<caf::actor>(self), tok = c.attempt, index](expected<json> r) {
    caf::anon_send(h, opdone_atom::value, op_outcome{tok, std::make_shared<expected<json>>(std::move(r)), index});
  });
  if (op->mode == handler_mode::blocking_sync) {
    st.core->blocking->post([op, req = std::move(c.request), r = s.resp] {
      if (!r.done()) r.complete(call_sync(*op, req));
    });
    return;
  }
  try {
    op->async(c.request, s.resp);
  } catch (const std::exception& e) {
    s.resp.fail(make_error(codes::handler_error, "operation '" + op->name + "' threw: " + e.what()));
  } catch (...) {
    s.resp.fail(make_error(codes::handler_error, "operation '" + op->name + "' threw"));
  }
}

void arm(run_actor* self, std::size_t index, slot& s, const run::start_timer& x) {
  s.timers.push_back(self->state.core->timers->after(
      std::chrono::milliseconds(x.delay_ms),
      [h = caf::actor_cast<caf::actor>(self), which = x.which, tok = x.token, index] {
        caf::anon_send(h, timer_atom::value, static_cast<std::uint8_t>(which), tok, index);
      }));
}

/// Whether a child runs hosted: an operation step whose handler is inline_sync now, without an
/// onError fallback (the one child an operation step can have: a hosted run has no children).
bool hostable(const engine_core& core, const run::placement& p) {
  if (p.step->kind != chain::step_kind::operation || p.step->on_error) return false;
  auto op = core.ops->find(p.step->operation);
  return op && op->mode == handler_mode::inline_sync;
}

void start_child(run_actor* self, run::spawn_child& x) {
  auto& st = self->state;
  if (hostable(*st.core, x.child)) {
    auto& h = st.hosted[x.index];
    h = std::make_unique<slot>();
    h->machine.emplace(std::move(x.child), st.core->settings);
    feed(self, x.index, run::start{});
    return;
  }
  if (st.children.size() <= x.index) st.children.resize(x.index + 1);
  // No monitor: the child's ~run_state reports its death.
  st.children[x.index] = self->spawn(run_behavior, run_spec{st.core, caf::actor_cast<caf::actor>(self), std::move(x.child)});
}

void carry(run_actor* self, std::size_t index, slot& s, run::action& a) {
  auto& st = self->state;
  std::visit(
      [self, index, &s, &st](auto& x) {
        using A = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<A, run::spawn_child>) {
          if (index != own_slot) throw std::logic_error("a hosted run asked for a child");  // see hostable()
          start_child(self, x);
        } else if constexpr (std::is_same_v<A, run::call_operation>) {
          call(self, index, s, x);
        } else if constexpr (std::is_same_v<A, run::release_operation>) {
          s.resp.mark_done();
        } else if constexpr (std::is_same_v<A, run::start_timer>) {
          if (x.which == run::timer::attempt_timeout) {
            s.attempt_timer = x;
          } else {
            arm(self, index, s, x);
          }
        } else if constexpr (std::is_same_v<A, run::cancel_child>) {
          if (st.hosted.count(x.index)) {
            feed(self, x.index, run::cancel_asked{std::move(x.below)});
            return;
          }
          if (x.index >= st.children.size() || !st.children[x.index]) return;
          const auto& c = st.children[x.index];
          if (x.below.empty()) {
            self->send(c, cancel_atom::value);
          } else {
            self->send(c, cancel_atom::value, std::move(x.below));
          }
        } else if constexpr (std::is_same_v<A, run::publish_start>) {
          st.core->registry->started(std::move(x.record));
        } else if constexpr (std::is_same_v<A, run::publish_update>) {
          st.core->registry->updated(std::move(x.record));
        } else if constexpr (std::is_same_v<A, run::force_end>) {
          st.core->registry->force_finish(x.run_id, x.status, x.error);
        } else if constexpr (std::is_same_v<A, run::end_run>) {
          st.cancel_timers(s);
          st.core->registry->finished(x.record);
          if (index != own_slot) {  // a hosted child: its parent is this actor's own run
            feed(self, own_slot, run::child_ended{std::move(x.record), std::move(x.exports)});
            return;
          }
          for (auto& [i, h] : st.hosted) st.cancel_timers(*h);  // ended or forced to end by now
          auto id = x.record->id;
          if (st.parent) {
            self->send(st.parent, done_atom::value, run_result{std::move(x.record), std::move(x.exports)});
          } else {
            st.core->leave(id);  // a top chain, entered by the engine
          }
          self->quit();
        }
      },
      a);
}

/// Carries out each action as the machine decides it (a forEach's first element starts while the
/// machine still decides the others).
class carrier final : public run::action_sink {
 public:
  carrier(run_actor* self, std::size_t index, slot& s) : self_(self), index_(index), s_(s) {}
  void add(run::action a) override { carry(self_, index_, s_, a); }

 private:
  run_actor* self_;
  std::size_t index_;
  slot& s_;
};

void dispatch(run_actor* self, std::size_t index, slot& s, run::event ev) {
  carrier out(self, index, s);
  s.machine->handle(std::move(ev), now_ms(), out);
}

/// Hands one event to the machine of slot `index` and carries out what it asks, then the events
/// that came up meanwhile, in order. An event for a slot already gone (a hosted child that ended)
/// is dropped, as a stale timer would be.
void feed(run_actor* self, std::size_t index, run::event ev) {
  auto& st = self->state;
  slot* s = st.find(index);
  if (!s || !s->machine) return;
  if (s->busy) {
    s->pending.push_back(std::move(ev));
    return;
  }
  s->busy = true;
  dispatch(self, index, *s, std::move(ev));
  for (std::size_t i = 0; i < s->pending.size(); ++i) {
    auto e = std::move(s->pending[i]);
    dispatch(self, index, *s, std::move(e));
  }
  s->pending.clear();
  s->busy = false;
  if (s->attempt_timer) {
    if (!s->machine->ended() && s->machine->attempt_token() == s->attempt_timer->token)
      arm(self, index, *s, *s->attempt_timer);
    s->attempt_timer.reset();
  }
  if (index != own_slot && s->machine->ended()) st.hosted.erase(index);
}

run_state::~run_state() {
  if (!core) return;
  cancel_timers(own);
  for (auto& [i, h] : hosted) cancel_timers(*h);
  auto& m = own.machine;
  if (!m || m->ended() || m->record().id.empty()) return;  // ended well
  const auto& kids = m->children();
  for (std::size_t i = 0; i < children.size() && i < kids.size(); ++i)
    if (!kids[i].done && children[i]) caf::anon_send_exit(children[i], caf::exit_reason::kill);
  const auto& id = m->record().id;
  // A durable engine stopping leaves its runs as they are stored, to resume at the next start.
  if (core->leaving.load(std::memory_order_acquire)) {
    if (!parent) core->leave(id);
    return;
  }
  // Hosted children die with their host: each ends failed, as a child actor's death would.
  for (auto& [i, h] : hosted) {
    const auto& r = h->machine->record();
    if (!h->machine->ended() && !r.id.empty())
      core->registry->force_finish(
          r.id, run_status::failed, run_error{codes::internal, "the run's actor ended unexpectedly", r.id, r.operation, {}});
  }
  if (!parent) {  // a top chain: whoever killed it records its end (engine shutdown)
    core->leave(id);
    return;
  }
  core->registry->force_finish(
      id, run_status::failed, run_error{codes::internal, "the run's actor ended unexpectedly", id, m->record().operation, {}});
  auto r = core->registry->get(id);
  if (r) caf::anon_send(parent, done_atom::value, run_result{std::move(r), nullptr});
}

run::timer timer_of(std::uint8_t which) {
  switch (which) {
    case static_cast<std::uint8_t>(run::timer::retry): return run::timer::retry;
    case static_cast<std::uint8_t>(run::timer::drain): return run::timer::drain;
    case static_cast<std::uint8_t>(run::timer::start): return run::timer::start;
    default: return run::timer::attempt_timeout;
  }
}

caf::behavior run_behavior(run_actor* self, run_spec spec) {
  auto& st = self->state;
  st.core = spec.core;
  st.parent = std::move(spec.parent);
  st.own.machine.emplace(std::move(spec.where), st.core->settings);
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
    s.own.busy = false;
    s.own.pending.clear();
    for (auto& [i, h] : s.hosted) {
      h->busy = false;
      h->pending.clear();
    }
    feed(self, own_slot, run::crashed{std::move(what)});
    return caf::exit_reason::normal;
  });
  feed(self, own_slot, run::start{});
  return {
      [self](done_atom, run_result& res) {
        feed(self, own_slot, run::child_ended{std::move(res.record), std::move(res.exports)});
      },
      [self](opdone_atom, op_outcome& o) {
        auto& s = self->state;
        slot* at = s.find(o.slot);
        if (!at || !at->machine) return;
        // Whether someone still serves the operation matters only when a worker was lost.
        bool served = true;
        if (!*o.result && o.result->error().code == codes::worker_lost)
          served = s.core->ops->find(at->machine->where().step->operation) != nullptr;
        feed(self, o.slot, run::operation_answered{o.token, std::move(*o.result), served});
      },
      [self](timer_atom, std::uint8_t which, std::uint64_t tok, std::uint64_t index) {
        feed(self, index, run::timer_fired{timer_of(which), tok});
      },
      [self](cancel_atom) { feed(self, own_slot, run::cancel_asked{}); },
      [self](cancel_atom, std::string& run_id) { feed(self, own_slot, run::cancel_asked{std::move(run_id)}); },
  };
}

}  // namespace

caf::actor spawn_run(caf::actor_system& sys, run_spec spec) {
  auto* core = spec.core;
  auto id = spec.where.id;
  auto a = sys.spawn(run_behavior, std::move(spec));
  core->enter(id, a);
  return a;
}

}  // namespace coworker

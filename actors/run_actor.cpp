// The run actor: one per run, a thin shell around run::machine (src/run/machine.hpp), which decides
// everything. The actor turns messages into the machine's events and carries out its actions:
// spawning children, calling handlers, starting timers, publishing records, telling its parent.
// A run actor that ends any other way than through the machine's end (killed, or dead past its
// exception handler) reports its death from its state's destructor, so any death becomes a
// failed record and nothing is left `running` (docs/engine.md).
#include <exception>

#include "atoms.hpp"
#include "engine_core.hpp"

namespace coworker {
namespace {

struct run_state {
  engine_core* core = nullptr;
  caf::actor parent;
  std::optional<run::machine> machine;
  std::vector<caf::actor> children;  ///< by the machine's child index; empty for a child it took as recorded
  responder resp;                    ///< the current attempt's handler call
  /// Its timers, cancelled when the run ends: a pending timer holds the actor (and its memory)
  /// until it fires, and the default step timeout is an hour.
  std::vector<timer_service::id> timers;
  /// An event that came up while carrying actions (an inline handler's answer, or the news that
  /// nobody serves the operation): the machine asks for one call at a time, so one slot is enough.
  /// Held by pointer: it is rare next to the state's size, which every run pays.
  std::unique_ptr<run::event> next;
  bool busy = false;

  static inline const char* name = "coworker.run";

  run_state() = default;
  run_state(const run_state&) = delete;
  run_state& operator=(const run_state&) = delete;
  ~run_state();
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

void feed(run_actor* self, run::event ev);

/// Calls the operation's handler: inline (its answer is the next event), on the blocking pool, or
/// asynchronously through a responder (its answer comes back as a message).
void call(run_actor* self, run::call_operation& c) {
  auto& st = self->state;
  auto op = st.core->ops->find(c.request.operation);
  if (!op) {
    feed(self, run::operation_missing{c.attempt});  // handled once the current actions are carried out
    return;
  }
  if (op->mode == handler_mode::inline_sync) {
    feed(self, run::operation_answered{c.attempt, call_sync(*op, c.request), true});
    return;
  }
  st.resp = responder([h = caf::actor_cast<caf::actor>(self), tok = c.attempt](expected<json> r) {
    caf::anon_send(h, opdone_atom::value, op_outcome{tok, std::make_shared<expected<json>>(std::move(r))});
  });
  if (op->mode == handler_mode::blocking_sync) {
    st.core->blocking->post([op, req = std::move(c.request), r = st.resp] {
      if (!r.done()) r.complete(call_sync(*op, req));
    });
    return;
  }
  try {
    op->async(c.request, st.resp);
  } catch (const std::exception& e) {
    st.resp.fail(make_error(codes::handler_error, "operation '" + op->name + "' threw: " + e.what()));
  } catch (...) {
    st.resp.fail(make_error(codes::handler_error, "operation '" + op->name + "' threw"));
  }
}

void carry(run_actor* self, run::action& a) {
  auto& st = self->state;
  std::visit(
      [self, &st](auto& x) {
        using A = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<A, run::spawn_child>) {
          if (st.children.size() <= x.index) st.children.resize(x.index + 1);
          // No monitor: the child's ~run_state reports its death.
          st.children[x.index] = self->spawn(run_behavior, run_spec{st.core, caf::actor_cast<caf::actor>(self), std::move(x.child)});
        } else if constexpr (std::is_same_v<A, run::call_operation>) {
          call(self, x);
        } else if constexpr (std::is_same_v<A, run::release_operation>) {
          st.resp.mark_done();
        } else if constexpr (std::is_same_v<A, run::start_timer>) {
          st.timers.push_back(st.core->timers->after(
              std::chrono::milliseconds(x.delay_ms),
              [h = caf::actor_cast<caf::actor>(self), which = x.which, tok = x.token] {
                switch (which) {
                  case run::timer::attempt_timeout: caf::anon_send(h, timeout_atom::value, tok); break;
                  case run::timer::retry: caf::anon_send(h, retry_atom::value, tok); break;
                  case run::timer::drain: caf::anon_send(h, drained_atom::value, tok); break;
                  case run::timer::start: caf::anon_send(h, begin_atom::value, tok); break;
                }
              }));
        } else if constexpr (std::is_same_v<A, run::cancel_child>) {
          const auto& c = st.children[x.index];
          if (!c) return;
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
          for (auto t : st.timers) st.core->timers->cancel(t);
          st.timers.clear();
          auto id = x.record->id;
          st.core->registry->finished(x.record);
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
  explicit carrier(run_actor* self) : self_(self) {}
  void add(run::action a) override { carry(self_, a); }

 private:
  run_actor* self_;
};

void dispatch(run_actor* self, run::event ev) {
  carrier out(self);
  self->state.machine->handle(std::move(ev), now_ms(), out);
}

/// Hands one event to the machine and carries out what it asks, then the event that came up
/// meanwhile, if any.
void feed(run_actor* self, run::event ev) {
  auto& st = self->state;
  if (st.busy) {
    st.next = std::make_unique<run::event>(std::move(ev));
    return;
  }
  st.busy = true;
  dispatch(self, std::move(ev));
  while (st.next) {
    auto e = std::move(st.next);
    dispatch(self, std::move(*e));
  }
  st.busy = false;
}

run_state::~run_state() {
  if (!machine || machine->ended() || !core || machine->record().id.empty()) return;  // ended well
  const auto& kids = machine->children();
  for (std::size_t i = 0; i < children.size() && i < kids.size(); ++i)
    if (!kids[i].done && children[i]) caf::anon_send_exit(children[i], caf::exit_reason::kill);
  const auto& id = machine->record().id;
  // A durable engine stopping leaves its runs as they are stored, to resume at the next start.
  if (core->leaving.load(std::memory_order_acquire)) {
    if (!parent) core->leave(id);
    return;
  }
  if (!parent) {  // a top chain: whoever killed it records its end (engine shutdown)
    core->leave(id);
    return;
  }
  core->registry->force_finish(
      id, run_status::failed, run_error{codes::internal, "the run's actor ended unexpectedly", id, machine->record().operation, {}});
  auto r = core->registry->get(id);
  if (r) caf::anon_send(parent, done_atom::value, run_result{std::move(r), nullptr});
}

caf::behavior run_behavior(run_actor* self, run_spec spec) {
  auto& st = self->state;
  st.core = spec.core;
  st.parent = std::move(spec.parent);
  st.machine.emplace(std::move(spec.where), st.core->settings);
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
    s.busy = false;
    s.next.reset();
    feed(self, run::crashed{std::move(what)});
    return caf::exit_reason::normal;
  });
  feed(self, run::start{});
  return {
      [self](done_atom, run_result& res) { feed(self, run::child_ended{std::move(res.record), std::move(res.exports)}); },
      [self](opdone_atom, op_outcome& o) {
        auto& s = self->state;
        // Whether someone still serves the operation matters only when a worker was lost.
        bool served = true;
        if (!*o.result && o.result->error().code == codes::worker_lost)
          served = s.core->ops->find(s.machine->where().step->operation) != nullptr;
        feed(self, run::operation_answered{o.token, std::move(*o.result), served});
      },
      [self](timeout_atom, std::uint64_t tok) { feed(self, run::timer_fired{run::timer::attempt_timeout, tok}); },
      [self](retry_atom, std::uint64_t tok) { feed(self, run::timer_fired{run::timer::retry, tok}); },
      [self](drained_atom, std::uint64_t tok) { feed(self, run::timer_fired{run::timer::drain, tok}); },
      [self](begin_atom, std::uint64_t tok) { feed(self, run::timer_fired{run::timer::start, tok}); },
      [self](cancel_atom) { feed(self, run::cancel_asked{}); },
      [self](cancel_atom, std::string& run_id) { feed(self, run::cancel_asked{std::move(run_id)}); },
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

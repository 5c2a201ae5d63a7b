// Calling an operation's handler for one attempt: inline, on the blocking pool, or asynchronously
// through a responder; the step's timeout; checking what the handler answered.
#include <exception>

#include "run_state.hpp"

namespace coworker::run_detail {

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
    const auto& e = result.error();
    // A remote worker died holding this attempt: while someone still serves the operation, run a
    // new attempt (counted in attempts) on another worker, outside the step's retry policy.
    if (e.code == codes::worker_lost && st.worker_losses++ < max_worker_losses && st.spec.core->ops->find(st.step->operation)) {
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

}  // namespace coworker::run_detail

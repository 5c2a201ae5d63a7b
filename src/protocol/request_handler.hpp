// The request protocol of SPEC §8 (docs/protocol.md), independent of sockets: one JSON frame in,
// one JSON reply out — or, for `run` with `wait: true`, the id of the run whose end the reply awaits.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "coworker/engine.hpp"

namespace coworker::protocol {

struct outcome {
  json reply;               ///< the reply to send now (unless wait_run_id is set)
  std::string wait_run_id;  ///< set: reply with run_reply() when this run has ended
  json id;                  ///< the client's own request id, echoed in the reply
  bool deferred = false;    ///< the reply is ready, but send it only once on_durable was called
};

/// Handles one request frame. Never throws; every failure is an `{"ok": false, "error": ...}` reply.
/// With `on_durable` and a durable engine, a `run` does not wait for its commit: the outcome is
/// `deferred` and `on_durable` is called (maybe from another thread) when the reply may go out.
outcome handle_request(engine& eng, std::string_view frame, const std::function<void()>& on_durable = {});
/// The same for a request already parsed (the HTTP API builds its requests as JSON).
outcome handle_request(engine& eng, const json& request, const std::function<void()>& on_durable = {});

/// The reply to a `run` request with `wait: true`: `{ok, runId, status, tree}`.
json run_reply(engine& eng, const std::string& run_id, const json& id);

/// `{"ok": false, "error": {"code", "message", "path"?}}`, with the client's id when it gave one.
json error_reply(const error& e, const json& id = nullptr);

}  // namespace coworker::protocol

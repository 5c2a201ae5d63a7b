// The request protocol of docs/protocol.md, independent of sockets: one JSON frame in,
// one JSON reply out — or, for `run` with `wait: true`, the id of the run whose end the reply awaits.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/event_text.hpp"
#include "coworker/engine.hpp"

namespace coworker::protocol {

struct outcome {
  json reply;               ///< the reply to send now (unless wait_run_id is set)
  /// set: the reply as text, to send instead of `reply` (null then): a snapshot or a list, written
  /// from the records without a JSON tree (a web view asks for both on every page load).
  std::string reply_text;
  std::string wait_run_id;  ///< set: reply with run_reply() when this run has ended (and it is stored)
  /// set: `reply` is ready, but send it only once this run is stored (engine::durable, or its
  /// first event seen on a cursor). Only with `hold` and a durable engine.
  std::string ack_run_id;
  /// With ack_run_id: send `reply` only once that run's end is stored (engine::wait(id, 0) says so),
  /// not its start: a signal delivered to an await step.
  bool ack_on_end = false;
  json id;                  ///< the client's own request id, echoed in the reply
};

/// Handles one request frame. Never throws; every failure is an `{"ok": false, "error": ...}` reply.
/// A durable `run` is acknowledged only once its chain is stored: without `hold` the call blocks
/// until then; with `hold` it returns at once and the caller holds the reply (ack_run_id).
outcome handle_request(engine& eng, std::string_view frame, bool hold = false);
/// The same for a request already parsed (the HTTP API builds its requests as JSON).
outcome handle_request(engine& eng, const json& request, bool hold = false);

/// The reply to a `run` request with `wait: true`: `{ok, runId, status, tree}`.
json run_reply(engine& eng, const std::string& run_id, const json& id);
/// The same reply as text, built from the records without a JSON tree: the values come from
/// `cache` (those the events of the chain just carried are serialized already).
std::string run_reply_text(engine& eng, const std::string& run_id, const json& id, value_text_cache& cache);

/// The reply to a `list` request as text: `{ok, id?, runs}`.
std::string list_reply_text(engine& eng, const std::vector<run_record>& records, const json& id);
/// The reply to a `snapshot` request as text: `{ok, seq, epoch, stream, runs, id?}`.
std::string snapshot_reply_text(engine& eng, std::size_t recent, const json& id);

/// `{"ok": false, "error": {"code", "message", "path"?}}`, with the client's id when it gave one.
json error_reply(const error& e, const json& id = nullptr);

}  // namespace coworker::protocol

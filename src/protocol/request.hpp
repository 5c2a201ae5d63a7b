// The request frames of docs/protocol.md ("Requests"), parsed into typed requests before anything
// is done with them. No engine, no socket: request_handler.cpp acts on what this returns.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "coworker/engine.hpp"

namespace coworker::protocol {

/// The most finished chains a `snapshot` may ask for (`recent`).
inline constexpr std::int64_t max_snapshot_recent = 10000;
/// How far ahead a `run` may start (`startAt`, `startDelayMs`): a year.
inline constexpr std::int64_t max_start_ahead_ms = 365LL * 24 * 3600 * 1000;
/// The most records a `list` may ask for (`limit`).
inline constexpr std::int64_t max_list_limit = 10000;

struct run_request {
  const json* chain = nullptr;  ///< into the parsed frame, which outlives the request; null: chain_ref
  std::string chain_ref;        ///< `chainRef`: a published chain ("triage@3", "triage:prod", "triage")
  const json* input = nullptr;  ///< null: the chain's own input
  std::string key;
  bool wait = false;
  std::int64_t start_at = 0;  ///< `startAt`, or now + `startDelayMs`; 0: at once
  std::string traceparent;    ///< W3C trace context (docs/tracing.md); checked here, at /traceparent
};
struct get_request {
  std::string run_id;
  bool tree = false;
};
struct list_request {
  list_query query;
};
struct cancel_request {
  std::string run_id;
};
struct snapshot_request {
  std::size_t recent = 100;
};
/// `{"type":"blob","id":"sha256:<64 hex>"}`: the value a blob reference stands for (docs/protocol.md).
struct blob_request {
  std::string blob_id;
};
/// `{"type":"signal","key":...,"payload":...}` or with `runId` instead of `key` (docs/protocol.md).
struct signal_request {
  std::string key;     ///< empty: by run id
  std::string run_id;
  const json* payload = nullptr;  ///< into the parsed frame; null: JSON null
};
/// `{"type":"redrive","runId":...}` (docs/chain-language.md, "Redrive").
struct redrive_request {
  std::string run_id;
  bool dry_run = false;
  bool wait = false;  ///< reply when the chain ends, as a run with `wait`
};
/// `schedule` (create, replace, pause), `schedules`, `unschedule` (docs/chain-language.md, "Schedules").
struct schedule_request {
  const json* frame = nullptr;  ///< the whole request: the engine reads the schedule's fields
};
struct schedules_request {};
struct unschedule_request {
  std::string name;
};
/// `publish`, `chains`, `alias` (docs/chain-language.md, "Published chains").
struct publish_request {
  std::string name;
  const json* chain = nullptr;
  const json* input_schema = nullptr;   ///< null: none
  const json* output_schema = nullptr;
};
struct chains_request {};
struct alias_request {
  std::string name, alias;
  int version = 0;
};
struct operations_request {};
struct ping_request {};
struct nodes_request {};

using request = std::variant<run_request, get_request, list_request, cancel_request, snapshot_request,
                             blob_request, signal_request, redrive_request, schedule_request, schedules_request, unschedule_request,
                             publish_request, chains_request, alias_request,
                             operations_request, ping_request, nodes_request>;

/// Parses a request object. Errors: bad_json (no `type` string), unknown_type, invalid_chain (no
/// chain object in a run), invalid_input (a field of the wrong type or out of range), each with the
/// field's JSON Pointer. Fields the protocol does not name (`id` among them) are ignored.
expected<request> parse_request(const json& frame);

}  // namespace coworker::protocol

// The frames a remote worker sends (docs/protocol.md, "Workers"), parsed into typed messages.
// No socket, no broker state: the broker (edges/worker_broker.cpp) acts on what this returns.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/json.hpp"
#include "coworker/limits.hpp"

namespace coworker::protocol {

/// The most tasks one worker may take at once (`capacity` in its hello).
inline constexpr int max_worker_capacity = 1000;
/// The largest worker frame (a hello or an answer), in bytes: a result of limits.valueBytes and
/// 1 MiB besides, and never under 4 MiB.
inline std::size_t max_worker_frame_bytes(const limits& lim) {
  return std::max<std::size_t>(4 * 1024 * 1024, lim.max_value_bytes + 1024 * 1024);
}

struct worker_op {
  std::string name;
  json input_schema;  ///< an object, or null
};
struct worker_hello {
  int capacity = 1;
  std::vector<worker_op> operations;  ///< distinct names, in the order given
};
struct worker_result {
  std::string task_id;
  json output;
};
struct worker_failure {
  std::string task_id;
  std::string code;  ///< the worker's own code, or handler_error
  std::string message;
};
struct worker_heartbeat {};
struct worker_bye {};

using worker_message = std::variant<worker_hello, worker_result, worker_failure, worker_heartbeat, worker_bye>;

/// Parses one worker frame. Errors: bad_json (not JSON, too deep, not an object), too_large (past
/// max_worker_frame_bytes), unknown_type, invalid_input (a field of the wrong type or out of
/// range, with its JSON Pointer). Fields the protocol does not name are ignored. Never throws.
expected<worker_message> parse_worker_frame(std::string_view frame, const limits& lim);

}  // namespace coworker::protocol

// The built-in operations that need no actors: the store operations and the offline text
// operations (summarize, extract, interpret). Documented in docs/operations.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "coworker/operation.hpp"
#include "store/document_store.hpp"

namespace coworker::ops {

struct ops_config {
  /// Where `send` delivers: "" (nowhere: send fails no_destination), "outbox" (an Outbox document)
  /// or "file:PATH" (a JSON line appended to PATH).
  std::string send_destination;
};

/// Reads `{"send": {"destination": "outbox" | "file:/path"}}`.
ops_config ops_config_from_json(const json& j);

/// select, create, update, delete, schema, send: blocking (they run on the engine's pool).
std::vector<operation> store_operations(std::shared_ptr<store::document_store> docs, const ops_config& cfg);
/// summarize, extract, interpret: deterministic, offline, short.
std::vector<operation> text_operations();

}  // namespace coworker::ops

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

/// An OpenAI-compatible endpoint for summarize/extract/interpret: `operations.llm` =
/// `{url, model, apiKeyEnv, timeoutMs, operations}`, overridden by COWORKER_LLM_URL,
/// COWORKER_LLM_MODEL, COWORKER_LLM_KEY. No url: the offline built-ins stay.
struct llm_config {
  std::string url;  ///< base URL, e.g. https://api.openai.com/v1 (…/chat/completions is appended)
  std::string model = "gpt-4o-mini";
  std::string key;
  int timeout_ms = 30000;
  std::vector<std::string> operations{"summarize", "extract", "interpret"};
};
llm_config llm_config_from(const json& ops_config);
/// The operations that replace the offline ones (empty when no url is configured).
std::vector<operation> llm_operations(const llm_config& cfg);

}  // namespace coworker::ops

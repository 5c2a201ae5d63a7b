// The LLM operations (docs/operations.md): summarize, extract and interpret answered by an
// OpenAI-compatible endpoint over HTTP, in place of the offline built-ins. An edge: it talks to the
// outside world.
#pragma once

#include <string>
#include <vector>

#include "coworker/operation.hpp"

namespace coworker::ops {

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

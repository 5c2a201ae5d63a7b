// summarize, extract and interpret through an OpenAI-compatible chat-completions endpoint, when one
// is configured (operations.llm in the config, or COWORKER_LLM_URL): the chains stay the same.
#include <httplib.h>

#include <cstdlib>

#include "llm_ops.hpp"

namespace coworker::ops {

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

const char* instructions(const std::string& op) {
  if (op == "summarize") return "Summarize the JSON or text the user sends. Reply with a JSON object {\"summary\": string}.";
  if (op == "extract")
    return "Extract the action items from the JSON or text the user sends. Reply with a JSON object "
           "{\"items\": [{\"text\": string, \"due\": string or null}]}.";
  return "Interpret the user's request. Reply with a JSON object {\"intent\": string, \"confidence\": number, "
         "\"entities\": object}.";
}

struct endpoint {
  std::string scheme_host;  // e.g. http://127.0.0.1:8000
  std::string path;         // e.g. /v1/chat/completions
};

endpoint split(const std::string& url) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  endpoint e{slash == std::string::npos ? url : url.substr(0, slash),
             slash == std::string::npos ? "" : url.substr(slash)};
  while (!e.path.empty() && e.path.back() == '/') e.path.pop_back();
  e.path += "/chat/completions";
  return e;
}

}  // namespace

llm_config llm_config_from(const json& ops_config) {
  llm_config c;
  json j = ops_config.is_object() && ops_config.contains("llm") && ops_config["llm"].is_object() ? ops_config["llm"]
                                                                                                : json::object();
  // The config file's `operations.llm`: a value of the wrong type keeps the default.
  auto text = [&](const char* k, std::string fallback) {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : fallback;
  };
  c.url = env_or("COWORKER_LLM_URL", text("url", ""));
  c.model = env_or("COWORKER_LLM_MODEL", text("model", "gpt-4o-mini"));
  c.key = env_or("COWORKER_LLM_KEY", env_or(text("apiKeyEnv", "OPENAI_API_KEY").c_str(), ""));
  if (j.contains("timeoutMs") && j["timeoutMs"].is_number_integer() && j["timeoutMs"].get<std::int64_t>() > 0 &&
      j["timeoutMs"].get<std::int64_t>() <= 3'600'000)
    c.timeout_ms = static_cast<int>(j["timeoutMs"].get<std::int64_t>());
  if (j.contains("operations") && j["operations"].is_array()) {
    c.operations.clear();
    for (const auto& o : j["operations"])
      if (o.is_string()) c.operations.push_back(o);
  }
  return c;
}

std::vector<operation> llm_operations(const llm_config& cfg) {
  std::vector<operation> out;
  if (cfg.url.empty()) return out;
  for (const auto& name : cfg.operations) {
    if (name != "summarize" && name != "extract" && name != "interpret") continue;
    operation op;
    op.name = name;
    op.mode = handler_mode::blocking_sync;
    op.description = name + " through the configured LLM endpoint";
    op.input_schema = json{{"type", "any"}};
    op.sync = [cfg, name](const op_request& r) -> expected<json> {
      auto ep = split(cfg.url);
      httplib::Client client(ep.scheme_host);
      client.set_connection_timeout(std::chrono::milliseconds(cfg.timeout_ms));
      client.set_read_timeout(std::chrono::milliseconds(cfg.timeout_ms));
      httplib::Headers headers;
      if (!cfg.key.empty()) headers.emplace("Authorization", "Bearer " + cfg.key);
      json body{{"model", cfg.model},
                {"response_format", {{"type", "json_object"}}},
                {"messages", json::array({json{{"role", "system"}, {"content", instructions(name)}},
                                          json{{"role", "user"},
                                               {"content", r.in().is_string() ? r.in().get<std::string>() : dump(r.in())}}})}};
      auto res = client.Post(ep.path, headers, dump(body), "application/json");
      if (!res) return make_error(codes::llm_error, name + ": cannot reach " + cfg.url + ": " + httplib::to_string(res.error()));
      if (res->status != 200)
        return make_error(codes::llm_error, name + ": " + cfg.url + " answered HTTP " + std::to_string(res->status));
      auto reply = json::parse(res->body, nullptr, false);
      if (reply.is_discarded() || !reply.contains("choices") || !reply["choices"].is_array() || reply["choices"].empty())
        return make_error(codes::llm_error, name + ": the endpoint's answer is not a chat completion");
      // Read without a throwing accessor: the endpoint is outside coworker.
      const json& first = reply["choices"][0];
      const auto message = first.is_object() ? first.find("message") : first.end();
      if (message == first.end() || !message->is_object() || !message->contains("content") ||
          !(*message)["content"].is_string())
        return make_error(codes::llm_error, name + ": the endpoint's answer has no message content");
      auto content = (*message)["content"].get<std::string>();
      auto parsed = json::parse(content, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object()) {
        if (name == "summarize") return json{{"summary", content}};
        return make_error(codes::llm_error, name + ": the model did not answer with a JSON object");
      }
      return parsed;
    };
    out.push_back(std::move(op));
  }
  return out;
}

}  // namespace coworker::ops

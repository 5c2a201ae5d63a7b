// The JSON API of the HTTP endpoint (docs/web.md), independent of the HTTP library: a method, a
// path, query parameters and a body in; a status and a JSON body out. Each endpoint is one request
// type of the ZeroMQ protocol (request_handler.hpp), so both answer alike.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "coworker/engine.hpp"

namespace coworker::protocol {

struct api_request {
  std::string method;  ///< "GET" or "POST"
  std::string path;    ///< decoded, e.g. "/api/runs/run-01J.../cancel"
  std::map<std::string, std::string> params;
  std::string body;
  std::string traceparent;  ///< the `traceparent` header (docs/tracing.md); empty: none
};

struct api_response {
  api_response(int s = 200, json b = nullptr, std::string t = {}) : status(s), body(std::move(b)), text(std::move(t)) {}
  int status;
  json body;
  std::string text;  ///< set: the body as text, sent instead of `body` (null then)
};

/// The HTTP status for an error code: 400 for a bad request, 404, 413, 401, 503 for busy, 500.
int http_status_of(const std::string& code);

class http_api {
 public:
  /// `remembered`: how many chain documents submitted over HTTP are kept for re-submitting.
  explicit http_api(engine& eng, std::size_t remembered = 1000);

  /// Answers one /api request. A `run` that waits returns when the chain ends or `stopping` is set.
  api_response handle(const api_request& r, const std::atomic<bool>& stopping);

 private:
  api_response submit(const api_request& r, const std::atomic<bool>& stopping);
  api_response validate(const api_request& r) const;
  /// POST /api/signals, or POST /api/runs/{run_id}/signal.
  api_response signal(const api_request& r, const std::string& run_id);
  /// A request of `type` from a JSON object body (`shape` says what it must be), `name` set when given.
  api_response with_body(const api_request& r, const char* type, const char* shape, const std::string& name = {});
  /// POST /api/runs/{run_id}/redrive.
  api_response redrive(const api_request& r, const std::string& run_id);
  api_response chain_of(const std::string& run_id);
  api_response call(const json& request);
  /// Keeps what a chain was submitted as over HTTP: {"chain"} or {"chainRef"}, with its "input".
  void remember(const std::string& run_id, json entry);

  engine& eng_;
  const std::size_t remembered_;
  std::mutex mu_;
  std::unordered_map<std::string, json> chains_;  ///< run id → {chain, input?}
  std::deque<std::string> order_;
};

}  // namespace coworker::protocol

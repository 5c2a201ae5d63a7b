// http_api: routes /api/... to request_handler requests.
#include "protocol/http_api.hpp"

#include <charconv>

#include "chain/json_parse.hpp"
#include "protocol/request_handler.hpp"

namespace coworker::protocol {

namespace {

api_response error_response(const error& e) { return {http_status_of(e.code), error_reply(e)}; }

bool truthy(const std::map<std::string, std::string>& params, const char* key) {
  auto it = params.find(key);
  return it != params.end() && (it->second == "1" || it->second == "true" || it->second.empty());
}

/// A query parameter that must be an integer becomes one; anything else stays a string, so the
/// request handler reports it with its usual message.
json number_or_text(const std::string& v) {
  long long n = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), n);
  if (r.ec == std::errc() && r.ptr == v.data() + v.size()) return n;
  return v;
}

/// "/api/runs/<id>[/<action>]": the id and the action (empty for none).
bool split_run_path(const std::string& path, std::string& id, std::string& action) {
  static const std::string prefix = "/api/runs/";
  if (path.rfind(prefix, 0) != 0) return false;
  auto rest = path.substr(prefix.size());
  auto slash = rest.find('/');
  id = rest.substr(0, slash);
  action = slash == std::string::npos ? "" : rest.substr(slash + 1);
  return !id.empty() && action.find('/') == std::string::npos;
}

}  // namespace

int http_status_of(const std::string& code) {
  if (code == codes::not_found) return 404;
  if (code == codes::unauthorized) return 401;
  if (code == codes::too_large) return 413;
  if (code == codes::busy || code == codes::unavailable) return 503;
  if (code == codes::internal || code == codes::store_error) return 500;
  return 400;
}

http_api::http_api(engine& eng, std::size_t remembered) : eng_(eng), remembered_(remembered) {}

api_response http_api::call(const json& request) {
  auto out = handle_request(eng_, request);
  const auto& reply = out.reply;
  if (reply.value("ok", false)) return {200, reply};
  return {http_status_of(reply["error"].value("code", std::string(codes::internal))), reply};
}

api_response http_api::handle(const api_request& r, const std::atomic<bool>& stopping) {
  const bool get = r.method == "GET";
  const bool post = r.method == "POST";
  auto wrong_method = [&] {
    return api_response{405, error_reply(make_error("method_not_allowed", r.method + " is not allowed on " + r.path))};
  };
  if (r.path == "/api/ping") return get ? call(json{{"type", "ping"}}) : wrong_method();
  if (r.path == "/api/operations") return get ? call(json{{"type", "operations"}}) : wrong_method();
  if (r.path == "/api/snapshot") {
    if (!get) return wrong_method();
    json req{{"type", "snapshot"}};
    if (auto it = r.params.find("recent"); it != r.params.end()) req["recent"] = number_or_text(it->second);
    return call(req);
  }
  if (r.path == "/api/validate") return post ? validate(r) : wrong_method();
  if (r.path == "/api/runs") {
    if (post) return submit(r, stopping);
    if (!get) return wrong_method();
    json req{{"type", "list"}};
    for (const char* k : {"status", "chainId"})
      if (auto it = r.params.find(k); it != r.params.end() && !it->second.empty()) req[k] = it->second;
    if (auto it = r.params.find("limit"); it != r.params.end()) req["limit"] = number_or_text(it->second);
    if (auto it = r.params.find("roots"); it != r.params.end()) req["roots"] = truthy(r.params, "roots");
    return call(req);
  }
  std::string id, action;
  if (split_run_path(r.path, id, action)) {
    if (action.empty()) return get ? call(json{{"type", "get"}, {"runId", id}, {"tree", truthy(r.params, "tree")}}) : wrong_method();
    if (action == "cancel") return post ? call(json{{"type", "cancel"}, {"runId", id}}) : wrong_method();
    if (action == "chain") return get ? chain_of(id) : wrong_method();
  }
  return error_response(make_error(codes::not_found, "no endpoint " + r.path + " (see docs/web.md)"));
}

api_response http_api::submit(const api_request& r, const std::atomic<bool>& stopping) {
  auto parsed = chain::parse_json(r.body, eng_.config().lim);
  if (!parsed) return error_response(parsed.error_value());
  if (!parsed->is_object()) return error_response(make_error(codes::bad_json, "the body is a chain or {\"chain\": ...}"));
  // The body is either a run request ({"chain": ..., "wait", "key", "input"}) or the chain itself.
  const bool bare = !parsed->contains("chain");
  json req = bare ? json{{"chain", std::move(*parsed)}} : std::move(*parsed);
  req["type"] = "run";
  if (truthy(r.params, "wait")) req["wait"] = true;
  if (auto it = r.params.find("key"); it != r.params.end() && !it->second.empty()) req["key"] = it->second;
  auto out = handle_request(eng_, req);
  if (!out.reply.is_null() && !out.reply.value("ok", false)) {
    auto& err = out.reply["error"];
    if (bare && err.contains("path")) {  // the path is into the body, which is the chain
      auto p = err["path"].get<std::string>();
      if (p.rfind("/chain", 0) == 0) err["path"] = p.substr(6);
    }
    return {http_status_of(err.value("code", std::string(codes::internal))), out.reply};
  }
  auto run_id = out.wait_run_id.empty() ? out.reply.value("runId", std::string()) : out.wait_run_id;
  if (!run_id.empty() && req["chain"].is_object()) remember(run_id, req["chain"], req.contains("input") ? &req["input"] : nullptr);
  if (out.wait_run_id.empty()) return {202, out.reply};
  while (!stopping.load()) {
    auto rec = eng_.wait(out.wait_run_id, std::chrono::milliseconds(200));
    if (rec || rec.error_value().code != codes::timeout) return {200, run_reply(eng_, out.wait_run_id, nullptr)};
  }
  return error_response(make_error(codes::busy, "the server is stopping; the run goes on: GET /api/runs/" + run_id));
}

api_response http_api::validate(const api_request& r) const {
  json errors = json::array();
  for (const auto& e : eng_.validate_text(r.body)) {
    json j{{"code", e.code}, {"message", e.message}};
    if (!e.path.empty()) j["path"] = e.path;
    errors.push_back(std::move(j));
  }
  bool valid = errors.empty();
  return {200, json{{"ok", true}, {"valid", valid}, {"errors", std::move(errors)}}};
}

void http_api::remember(const std::string& run_id, const json& chain, const json* input) {
  json entry{{"chain", chain}};
  if (input) entry["input"] = *input;
  std::lock_guard lock(mu_);
  if (chains_.emplace(run_id, std::move(entry)).second) order_.push_back(run_id);
  while (order_.size() > remembered_) {
    chains_.erase(order_.front());
    order_.pop_front();
  }
}

api_response http_api::chain_of(const std::string& run_id) {
  auto rec = eng_.get(run_id);
  auto root = rec ? rec->chain_id : run_id;
  std::lock_guard lock(mu_);
  auto it = chains_.find(root);
  if (it == chains_.end())
    return error_response(make_error(codes::not_found, "the chain of '" + run_id +
                                                           "' was not submitted over HTTP (or is no longer remembered)"));
  json body = it->second;
  body["ok"] = true;
  body["runId"] = root;
  return {200, std::move(body)};
}

}  // namespace coworker::protocol

// http_api: routes /api/... to request_handler requests.
#include "protocol/http_api.hpp"

#include "chain/json_parse.hpp"
#include "protocol/fields.hpp"
#include "protocol/request.hpp"
#include "protocol/request_handler.hpp"

namespace coworker::protocol {

namespace {

api_response error_response(const error& e) { return {http_status_of(e.code), error_reply(e)}; }

/// A flag in the query string: absent is false; `?tree`, `?tree=1` and `?tree=true` are true,
/// `0` and `false` false; anything else is invalid_input (never quietly false).
expected<bool> flag(const std::map<std::string, std::string>& params, const char* key) {
  auto it = params.find(key);
  if (it == params.end()) return false;
  if (it->second.empty()) return true;
  auto v = parse_bool_text(it->second, std::string("query parameter '") + key + "'");
  if (!v) return make_error(v.error().code, v.error().message, std::string("/") + key);  // as in the request
  return v;
}

/// An integer query parameter in [min, max], or invalid_input naming it.
expected<std::int64_t> number(const std::string& text, const char* key, std::int64_t min, std::int64_t max) {
  auto v = parse_int_text(text, min, max, std::string("query parameter '") + key + "'");
  if (!v) return make_error(v.error().code, v.error().message, std::string("/") + key);  // as in the request
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
  if (code == codes::not_waiting || code == codes::not_redrivable) return 409;
  if (code == codes::busy || code == codes::unavailable) return 503;
  if (code == codes::internal || code == codes::store_error) return 500;
  return 400;
}

http_api::http_api(engine& eng, std::size_t remembered) : eng_(eng), remembered_(remembered) {}

api_response http_api::call(const json& request) {
  auto out = handle_request(eng_, request);
  if (!out.reply_text.empty()) return {200, nullptr, std::move(out.reply_text)};  // only ever a success
  const auto& reply = out.reply;
  if (reply.value("ok", false)) return {200, reply};
  return {http_status_of(reply["error"].value("code", std::string(codes::internal))), reply};
}

api_response http_api::handle(const api_request& r, const std::atomic<bool>& stopping) {
  const bool get = r.method == "GET";
  const bool post = r.method == "POST";
  auto wrong_method = [&] {
    return api_response{405, error_reply(make_error(codes::method_not_allowed, r.method + " is not allowed on " + r.path))};
  };
  if (r.path == "/api/ping") return get ? call(json{{"type", "ping"}}) : wrong_method();
  if (r.path == "/api/operations") return get ? call(json{{"type", "operations"}}) : wrong_method();
  if (r.path == "/api/nodes") return get ? call(json{{"type", "nodes"}}) : wrong_method();
  if (r.path == "/api/snapshot") {
    if (!get) return wrong_method();
    json req{{"type", "snapshot"}};
    if (auto it = r.params.find("recent"); it != r.params.end()) {
      auto n = number(it->second, "recent", 0, max_snapshot_recent);
      if (!n) return error_response(n.error());
      req["recent"] = *n;
    }
    return call(req);
  }
  if (r.path == "/api/validate") return post ? validate(r) : wrong_method();
  if (r.path == "/api/runs") {
    if (post) return submit(r, stopping);
    if (!get) return wrong_method();
    json req{{"type", "list"}};
    for (const char* k : {"status", "chainId"})
      if (auto it = r.params.find(k); it != r.params.end() && !it->second.empty()) req[k] = it->second;
    if (auto it = r.params.find("limit"); it != r.params.end()) {
      auto n = number(it->second, "limit", 1, max_list_limit);
      if (!n) return error_response(n.error());
      req["limit"] = *n;
    }
    if (r.params.count("roots")) {
      auto roots = flag(r.params, "roots");
      if (!roots) return error_response(roots.error());
      req["roots"] = *roots;
    }
    return call(req);
  }
  if (r.path == "/api/signals") return post ? signal(r, {}) : wrong_method();
  if (r.path == "/api/schedules") {
    if (get) return call(json{{"type", "schedules"}});
    if (!post) return wrong_method();
    auto body = chain::parse_json(r.body, eng_.config().lim);
    if (!body) return error_response(body.error());
    if (!body->is_object()) return error_response(make_error(codes::bad_json, "the body is a schedule: {\"name\", \"cron\", \"chain\", ...}"));
    (*body)["type"] = "schedule";
    return call(*body);
  }
  if (r.path == "/api/chains") {
    if (get) return call(json{{"type", "chains"}});
    if (!post) return wrong_method();
    return with_body(r, "publish", "the body is {\"name\", \"chain\", \"inputSchema\"?, \"outputSchema\"?}");
  }
  // POST /api/chains/NAME/alias and /api/schedules/NAME/unschedule: an action on a named thing.
  for (const auto& [prefix, tail] : {std::pair<std::string_view, std::string_view>{"/api/chains/", "/alias"},
                                     std::pair<std::string_view, std::string_view>{"/api/schedules/", "/unschedule"}}) {
    if (r.path.rfind(prefix, 0) != 0) continue;
    std::string_view rest(r.path);
    rest.remove_prefix(prefix.size());
    if (rest.size() <= tail.size() || rest.substr(rest.size() - tail.size()) != tail)
      return error_response(make_error(codes::not_found, "no endpoint " + r.path + " (see docs/web.md)"));
    if (!post) return wrong_method();
    const std::string name(rest.substr(0, rest.size() - tail.size()));
    if (tail == "/alias") return with_body(r, "alias", "the body is {\"alias\", \"version\"}", name);
    return call(json{{"type", "unschedule"}, {"name", name}});
  }
  if (static const std::string blobs = "/api/blobs/"; r.path.rfind(blobs, 0) == 0) {
    if (!get) return wrong_method();
    // The body is the value itself (docs/web.md): what a client saves or hands on.
    auto out = call(json{{"type", "blob"}, {"id", r.path.substr(blobs.size())}});
    if (out.status == 200) out.body = std::move(out.body["value"]);
    return out;
  }
  std::string id, action;
  if (split_run_path(r.path, id, action)) {
    if (action.empty()) {
      if (!get) return wrong_method();
      auto tree = flag(r.params, "tree");
      if (!tree) return error_response(tree.error());
      return call(json{{"type", "get"}, {"runId", id}, {"tree", *tree}});
    }
    if (action == "cancel") return post ? call(json{{"type", "cancel"}, {"runId", id}}) : wrong_method();
    if (action == "chain") return get ? chain_of(id) : wrong_method();
    if (action == "signal") return post ? signal(r, id) : wrong_method();
    if (action == "redrive") return post ? redrive(r, id) : wrong_method();
  }
  return error_response(make_error(codes::not_found, "no endpoint " + r.path + " (see docs/web.md)"));
}

api_response http_api::submit(const api_request& r, const std::atomic<bool>& stopping) {
  auto wait = flag(r.params, "wait");
  if (!wait) return error_response(wait.error());
  auto parsed = chain::parse_json(r.body, eng_.config().lim);
  if (!parsed) return error_response(parsed.error());
  if (!parsed->is_object()) return error_response(make_error(codes::bad_json, "the body is a chain or {\"chain\": ...}"));
  // The body is either a run request ({"chain": ..., "wait", "key", "input"}) or the chain itself.
  const bool bare = !parsed->contains("chain") && !parsed->contains("chainRef");
  json req = bare ? json{{"chain", std::move(*parsed)}} : std::move(*parsed);
  req["type"] = "run";
  if (*wait) req["wait"] = true;
  if (auto it = r.params.find("key"); it != r.params.end() && !it->second.empty()) req["key"] = it->second;
  if (!r.traceparent.empty()) req["traceparent"] = r.traceparent;  // the header wins over a body field
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
  if (!run_id.empty() && (req["chain"].is_object() || req.contains("chainRef"))) {
    json entry = req["chain"].is_object() ? json{{"chain", req["chain"]}} : json{{"chainRef", req["chainRef"]}};
    if (req.contains("input")) entry["input"] = req["input"];
    remember(run_id, std::move(entry));
  }
  if (out.wait_run_id.empty()) return {202, out.reply};
  while (!stopping.load()) {
    auto rec = eng_.wait(out.wait_run_id, std::chrono::milliseconds(200));
    if (rec || rec.error().code != codes::timeout) return {200, run_reply(eng_, out.wait_run_id, nullptr)};
  }
  return error_response(make_error(codes::busy, "the server is stopping; the run goes on: GET /api/runs/" + run_id));
}

api_response http_api::signal(const api_request& r, const std::string& run_id) {
  // The body: {"key", "payload"} or {"runId", "payload"} (POST /api/signals), {"payload"} (POST
  // /api/runs/{id}/signal: the web view's form on a waiting run).
  auto parsed = chain::parse_json(r.body, eng_.config().lim);
  if (!parsed) return error_response(parsed.error());
  if (!parsed->is_object()) return error_response(make_error(codes::bad_json, "the body is {\"key\": ..., \"payload\": ...}"));
  json req = std::move(*parsed);
  req["type"] = "signal";
  if (!run_id.empty()) {
    req.erase("key");
    req["runId"] = run_id;
  }
  return call(req);
}

api_response http_api::with_body(const api_request& r, const char* type, const char* shape, const std::string& name) {
  auto body = chain::parse_json(r.body, eng_.config().lim);
  if (!body) return error_response(body.error());
  if (!body->is_object()) return error_response(make_error(codes::bad_json, shape));
  (*body)["type"] = type;
  if (!name.empty()) (*body)["name"] = name;
  return call(*body);
}

api_response http_api::redrive(const api_request& r, const std::string& run_id) {
  // The body, optional: {"dryRun": true} (docs/chain-language.md, "Redrive").
  json req = json::object();
  if (r.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    auto parsed = chain::parse_json(r.body, eng_.config().lim);
    if (!parsed) return error_response(parsed.error());
    if (!parsed->is_object()) return error_response(make_error(codes::bad_json, "the body is {\"dryRun\": true} or empty"));
    req = std::move(*parsed);
  }
  req.erase("wait");  // the reply says it started; the events and GET /api/runs/{id} follow it
  req["type"] = "redrive";
  req["runId"] = run_id;
  return call(req);
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

void http_api::remember(const std::string& run_id, json entry) {
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

// handle_request: validates a request frame and calls the engine.
#include "protocol/request_handler.hpp"

#include "chain/json_parse.hpp"

namespace coworker::protocol {

namespace {

json ok_reply(json body, const json& id) {
  body["ok"] = true;
  if (!id.is_null()) body["id"] = id;
  return body;
}

expected<std::string> string_field(const json& req, const char* key, bool required) {
  auto it = req.find(key);
  if (it == req.end() || it->is_null()) {
    if (required) return make_error(codes::invalid_input, std::string("\"") + key + "\" is required", std::string("/") + key);
    return std::string();
  }
  if (!it->is_string()) return make_error(codes::invalid_input, std::string("\"") + key + "\" must be a string", std::string("/") + key);
  return it->get<std::string>();
}

/// An optional boolean field: `fallback` when absent or null, invalid_input when not a boolean
/// (json::value would throw, and the client would get `internal` for its own mistake).
expected<bool> bool_field(const json& req, const char* key, bool fallback) {
  auto it = req.find(key);
  if (it == req.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return make_error(codes::invalid_input, std::string("\"") + key + "\" must be true or false", std::string("/") + key);
  return it->get<bool>();
}

json records_json(const std::vector<run_record>& records, std::size_t cut) {
  json out = json::array();
  for (const auto& r : records) out.push_back(to_json(r, cut));
  return out;
}

outcome handle_object(engine& eng, const json& req, bool hold) {
  outcome o;
  if (req.contains("id")) o.id = req["id"];
  auto type = string_field(req, "type", true);
  if (!type) {
    o.reply = error_reply(make_error(codes::bad_json, "a request needs a \"type\" string", "/type"), o.id);
    return o;
  }
  const auto cut = eng.config().lim.event_cut_bytes;
  auto fail = [&](const error& e) {
    o.reply = error_reply(e, o.id);
    return o;
  };
  if (*type == "run") {
    auto chain = req.find("chain");
    if (chain == req.end() || !chain->is_object())
      return fail(make_error(codes::invalid_chain, "\"chain\" must be a chain object", "/chain"));
    submit_options opts;
    auto key = string_field(req, "key", false);
    if (!key) return fail(key.error_value());
    opts.key = *key;
    if (req.contains("input")) opts.input = req["input"];
    auto wait = bool_field(req, "wait", false);
    if (!wait) return fail(wait.error_value());
    const bool durable = !eng.config().db_path.empty();
    // A waiting reply goes out after the chain's end is stored, which implies its start is.
    opts.wait_durable = !(durable && (hold || *wait));
    auto id = eng.submit(*chain, opts);
    if (!id) {
      auto e = id.error_value();
      if (!e.path.empty() && e.code != codes::busy && e.code != codes::store_error && e.code != codes::unavailable)
        e.path = "/chain" + e.path;
      return fail(e);
    }
    if (*wait) {
      o.wait_run_id = *id;
      return o;
    }
    // Accepted chains are running (SPEC §8); one that already ended says so.
    auto rec = eng.get(*id);
    std::string status = rec && is_final(rec->status) ? std::string(to_string(rec->status)) : "running";
    o.reply = ok_reply(json{{"runId", *id}, {"status", status}}, o.id);
    if (!opts.wait_durable) o.ack_run_id = *id;
    return o;
  }
  if (*type == "get") {
    auto run_id = string_field(req, "runId", true);
    if (!run_id) return fail(run_id.error_value());
    auto tree = bool_field(req, "tree", false);
    if (!tree) return fail(tree.error_value());
    if (*tree) {
      auto t = eng.tree(*run_id);
      if (!t) return fail(t.error_value());
      o.reply = ok_reply(json{{"run", std::move(*t)}}, o.id);
    } else {
      auto r = eng.get(*run_id);
      if (!r) return fail(r.error_value());
      o.reply = ok_reply(json{{"run", to_json(*r)}}, o.id);
    }
    return o;
  }
  if (*type == "list") {
    list_query q;
    auto status = string_field(req, "status", false);
    if (!status) return fail(status.error_value());
    if (!status->empty()) {
      auto s = parse_run_status(*status);
      if (!s) return fail(make_error(codes::invalid_input, "unknown status '" + *status + "'", "/status"));
      q.status = *s;
    }
    auto chain_id = string_field(req, "chainId", false);
    if (!chain_id) return fail(chain_id.error_value());
    q.chain_id = *chain_id;
    auto roots = bool_field(req, "roots", q.chain_id.empty());
    if (!roots) return fail(roots.error_value());
    q.roots_only = *roots;
    if (req.contains("limit")) {
      if (!req["limit"].is_number_integer() || req["limit"].get<long long>() < 1 || req["limit"].get<long long>() > 10000)
        return fail(make_error(codes::invalid_input, "\"limit\" must be an integer from 1 to 10000", "/limit"));
      q.limit = req["limit"].get<std::size_t>();
    }
    o.reply = ok_reply(json{{"runs", records_json(eng.list(q), cut)}}, o.id);
    return o;
  }
  if (*type == "cancel") {
    auto run_id = string_field(req, "runId", true);
    if (!run_id) return fail(run_id.error_value());
    if (auto r = eng.cancel(*run_id); !r) return fail(r.error_value());
    o.reply = ok_reply(json{{"runId", *run_id}, {"cancelling", true}}, o.id);
    return o;
  }
  if (*type == "snapshot") {
    std::size_t recent = 100;
    if (req.contains("recent") && req["recent"].is_number_integer() && req["recent"].get<long long>() >= 0)
      recent = std::min<std::size_t>(req["recent"].get<std::size_t>(), 10000);
    o.reply = ok_reply(eng.snapshot(recent), o.id);
    return o;
  }
  if (*type == "operations") {
    json ops = json::array();
    ops.push_back(json{{"name", "run"}, {"description", "a nested chain"}});
    for (const auto& op : eng.operations()) {
      json entry{{"name", op->name}, {"description", op->description}};
      if (!op->input_schema.is_null()) entry["inputSchema"] = op->input_schema;
      ops.push_back(std::move(entry));
    }
    o.reply = ok_reply(json{{"operations", std::move(ops)}}, o.id);
    return o;
  }
  if (*type == "ping") {
    o.reply = ok_reply(json{{"pong", true}, {"seq", eng.seq()}, {"epoch", eng.epoch()}}, o.id);
    return o;
  }
  return fail(make_error(codes::unknown_type,
                         "unknown request type '" + *type + "' (run, get, list, cancel, snapshot, operations, ping)",
                         "/type"));
}

}  // namespace

json error_reply(const error& e, const json& id) {
  json err{{"code", e.code}, {"message", e.message}};
  if (!e.path.empty()) err["path"] = e.path;
  json r{{"ok", false}, {"error", std::move(err)}};
  if (!id.is_null()) r["id"] = id;
  return r;
}

outcome handle_request(engine& eng, std::string_view frame, bool hold) {
  outcome o;
  if (frame.empty()) {
    o.reply = error_reply(make_error(codes::bad_json, "empty request: send one JSON object"));
    return o;
  }
  auto parsed = chain::parse_json(frame, eng.config().lim);
  if (!parsed) {
    o.reply = error_reply(parsed.error_value());
    return o;
  }
  return handle_request(eng, *parsed, hold);
}

outcome handle_request(engine& eng, const json& request, bool hold) {
  outcome o;
  if (!request.is_object()) {
    o.reply = error_reply(make_error(codes::bad_json, "a request is a JSON object with a \"type\""));
    return o;
  }
  try {
    return handle_object(eng, request, hold);
  } catch (const std::exception& e) {
    o.reply = error_reply(make_error(codes::internal, std::string("request failed: ") + e.what()));
    return o;
  }
}

json run_reply(engine& eng, const std::string& run_id, const json& id) {
  auto t = eng.tree(run_id, eng.config().lim.event_cut_bytes);
  if (!t) return error_reply(t.error_value(), id);
  json r{{"ok", true}, {"runId", run_id}, {"status", (*t)["status"]}, {"tree", std::move(*t)}};
  if (!id.is_null()) r["id"] = id;
  return r;
}

}  // namespace coworker::protocol

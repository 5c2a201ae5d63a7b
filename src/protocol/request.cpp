// parse_request (see request.hpp; the contract is docs/protocol.md, "Requests").
#include "protocol/request.hpp"

#include "chain/pointer.hpp"
#include "core/trace_context.hpp"
#include "protocol/fields.hpp"

namespace coworker::protocol {

namespace {

expected<request> parse_run(const json& f) {
  run_request r;
  auto ref = string_field(f, "chainRef", false);
  if (!ref) return ref.error();
  r.chain_ref = std::move(*ref);
  auto chain = f.find("chain");
  if (!r.chain_ref.empty()) {
    if (chain != f.end()) return make_error(codes::invalid_input, "give \"chain\" or \"chainRef\", not both", "/chainRef");
  } else if (chain == f.end() || !chain->is_object()) {
    return make_error(codes::invalid_chain, "\"chain\" must be a chain object (or give \"chainRef\": a published chain)",
                      "/chain");
  } else {
    r.chain = &*chain;
  }
  if (auto input = f.find("input"); input != f.end()) r.input = &*input;
  auto key = string_field(f, "key", false);
  if (!key) return key.error();
  r.key = std::move(*key);
  auto wait = bool_field(f, "wait", false);
  if (!wait) return wait.error();
  r.wait = *wait;
  auto trace = string_field(f, "traceparent", false);
  if (!trace) return trace.error();
  if (!trace->empty())
    if (auto t = parse_traceparent(*trace); !t) return t.error();
  r.traceparent = std::move(*trace);
  // A later start (docs/chain-language.md, "Delayed start"): at most a year ahead.
  const bool at = f.contains("startAt") && !f["startAt"].is_null();
  const bool delay = f.contains("startDelayMs") && !f["startDelayMs"].is_null();
  if (at && delay) return make_error(codes::invalid_input, "give \"startAt\" or \"startDelayMs\", not both", "/startDelayMs");
  const auto now = now_ms();
  if (at) {
    auto v = int_field(f, "startAt", 0, 0, now + max_start_ahead_ms);
    if (!v) return v.error();
    r.start_at = *v;
  } else if (delay) {
    auto v = int_field(f, "startDelayMs", 0, 0, max_start_ahead_ms);
    if (!v) return v.error();
    r.start_at = *v > 0 ? now + *v : 0;
  }
  return request(std::move(r));
}

expected<request> parse_get(const json& f) {
  auto run_id = string_field(f, "runId", true);
  if (!run_id) return run_id.error();
  auto tree = bool_field(f, "tree", false);
  if (!tree) return tree.error();
  return request(get_request{std::move(*run_id), *tree});
}

expected<request> parse_list(const json& f) {
  list_request r;
  auto status = string_field(f, "status", false);
  if (!status) return status.error();
  if (!status->empty()) {
    auto s = parse_run_status(*status);
    if (!s)
      return make_error(codes::invalid_input,
                        "unknown status '" + chain::printable(*status, 40) +
                            "' (pending, scheduled, running, waiting, completed, failed, skipped, cancelled)",
                        "/status");
    r.query.status = *s;
  }
  auto chain_id = string_field(f, "chainId", false);
  if (!chain_id) return chain_id.error();
  r.query.chain_id = std::move(*chain_id);
  auto roots = bool_field(f, "roots", r.query.chain_id.empty());
  if (!roots) return roots.error();
  r.query.roots_only = *roots;
  auto limit = int_field(f, "limit", 100, 1, max_list_limit);
  if (!limit) return limit.error();
  r.query.limit = static_cast<std::size_t>(*limit);
  return request(std::move(r));
}

expected<request> parse_signal(const json& f) {
  signal_request r;
  auto key = string_field(f, "key", false);
  if (!key) return key.error();
  auto run_id = string_field(f, "runId", false);
  if (!run_id) return run_id.error();
  if (key->empty() == run_id->empty())
    return make_error(codes::invalid_input, "a signal names either a \"key\" (a non-empty string) or a \"runId\"",
                      key->empty() ? "/key" : "/runId");
  r.key = std::move(*key);
  r.run_id = std::move(*run_id);
  if (auto payload = f.find("payload"); payload != f.end()) r.payload = &*payload;
  return request(std::move(r));
}

expected<request> parse_redrive(const json& f) {
  redrive_request r;
  auto run_id = string_field(f, "runId", true);
  if (!run_id) return run_id.error();
  r.run_id = std::move(*run_id);
  auto dry = bool_field(f, "dryRun", false);
  if (!dry) return dry.error();
  r.dry_run = *dry;
  auto wait = bool_field(f, "wait", false);
  if (!wait) return wait.error();
  r.wait = *wait;
  return request(std::move(r));
}

expected<request> parse_publish(const json& f) {
  publish_request r;
  auto name = string_field(f, "name", true);
  if (!name) return name.error();
  r.name = std::move(*name);
  auto chain = f.find("chain");
  if (chain == f.end() || !chain->is_object())
    return make_error(codes::invalid_chain, "\"chain\" must be a chain object", "/chain");
  r.chain = &*chain;
  if (auto s = f.find("inputSchema"); s != f.end() && !s->is_null()) r.input_schema = &*s;
  if (auto s = f.find("outputSchema"); s != f.end() && !s->is_null()) r.output_schema = &*s;
  return request(std::move(r));
}

expected<request> parse_alias(const json& f) {
  alias_request r;
  auto name = string_field(f, "name", true);
  if (!name) return name.error();
  auto alias = string_field(f, "alias", true);
  if (!alias) return alias.error();
  auto version = int_field(f, "version", 0, 1, 1'000'000'000);
  if (!version) return version.error();
  if (*version == 0) return make_error(codes::invalid_input, "\"version\" is required: the version the alias points at", "/version");
  r.name = std::move(*name);
  r.alias = std::move(*alias);
  r.version = static_cast<int>(*version);
  return request(std::move(r));
}

}  // namespace

expected<request> parse_request(const json& f) {
  if (!f.is_object()) return make_error(codes::bad_json, "a request is a JSON object with a \"type\"");
  auto type = string_field(f, "type", true);
  if (!type) return make_error(codes::bad_json, "a request needs a \"type\" string", "/type");
  if (*type == "run") return parse_run(f);
  if (*type == "get") return parse_get(f);
  if (*type == "list") return parse_list(f);
  if (*type == "cancel") {
    auto run_id = string_field(f, "runId", true);
    if (!run_id) return run_id.error();
    return request(cancel_request{std::move(*run_id)});
  }
  if (*type == "snapshot") {
    auto recent = int_field(f, "recent", 100, 0, max_snapshot_recent);
    if (!recent) return recent.error();
    return request(snapshot_request{static_cast<std::size_t>(*recent)});
  }
  if (*type == "blob") {
    auto id = string_field(f, "id", true);
    if (!id) return id.error();
    return request(blob_request{std::move(*id)});
  }
  if (*type == "signal") return parse_signal(f);
  if (*type == "redrive") return parse_redrive(f);
  if (*type == "publish") return parse_publish(f);
  if (*type == "chains") return request(chains_request{});
  if (*type == "alias") return parse_alias(f);
  if (*type == "schedule") return request(schedule_request{&f});
  if (*type == "schedules") return request(schedules_request{});
  if (*type == "unschedule") {
    auto name = string_field(f, "name", true);
    if (!name) return name.error();
    return request(unschedule_request{std::move(*name)});
  }
  if (*type == "operations") return request(operations_request{});
  if (*type == "ping") return request(ping_request{});
  if (*type == "nodes") return request(nodes_request{});
  return make_error(codes::unknown_type,
                    "unknown request type '" + chain::printable(*type, 64) +
                        "' (run, get, list, cancel, snapshot, blob, signal, redrive, publish, chains, alias, schedule, "
                        "schedules, unschedule, operations, ping, nodes)",
                    "/type");
}

}  // namespace coworker::protocol

// parse_config (see config_file.hpp).
#include "protocol/config_file.hpp"

#include <algorithm>

#include "chain/fields.hpp"
#include "chain/pointer.hpp"
#include "protocol/fields.hpp"

namespace coworker::protocol {

namespace {

/// Every key of `obj` must be one of `known`.
expected<void> known_keys(const json& obj, const std::vector<std::string_view>& known, const std::string& base,
                          std::string_view where) {
  for (const auto& [k, v] : obj.items()) {
    (void)v;
    if (std::find(known.begin(), known.end(), k) == known.end())
      return chain::detail::unknown_field(k, chain::child_pointer(base, k), known, where);
  }
  return {};
}

#define COWORKER_TRY(var, expr) \
  auto var = (expr);            \
  if (!var) return var.error()

expected<void> read_string(const json& obj, std::string_view key, std::string& out, const std::string& base = {}) {
  auto v = string_field(obj, key, false, base);
  if (!v) return v.error();
  out = std::move(*v);
  return {};
}

expected<void> read_int(const json& obj, std::string_view key, std::int64_t min, std::int64_t max,
                        std::optional<std::int64_t>& out, const std::string& base = {}) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  auto v = int_field(obj, key, 0, min, max, base);
  if (!v) return v.error();
  out = *v;
  return {};
}

constexpr std::int64_t kib = 1024, mib = 1024 * kib;

expected<void> read_limits(const json& l, config_file::limit_values& out) {
  const std::string at = "/limits";
  if (auto r = known_keys(l, {"requestBytes", "jsonDepth", "steps", "chainDepth", "valueBytes", "concurrentRuns",
                              "blobBytes", "eventCutBytes", "stepTimeoutMs", "chainElements", "retainedBytes",
                              "signalKeepMs", "keptSignals", "schedules", "publishedVersions"},
                          at, "limits");
      !r)
    return r;
  struct entry {
    const char* key;
    std::int64_t min, max;
    std::optional<std::int64_t>* out;
  };
  // The ranges keep every limit meaningful: chainDepth stays far under the run tree depth guard
  // (limits.hpp, max_run_tree_depth), jsonDepth under what the parser's stack is sized for.
  const entry entries[] = {
      {"requestBytes", kib, 1024 * mib, &out.request_bytes},
      {"jsonDepth", 2, 512, &out.json_depth},
      {"steps", 1, 1'000'000, &out.steps},
      {"chainDepth", 1, 64, &out.chain_depth},
      {"valueBytes", kib, 1024 * mib, &out.value_bytes},
      {"concurrentRuns", 1, 1'000'000, &out.concurrent_runs},
      {"eventCutBytes", 16 * kib, 256 * mib, &out.blob_bytes},  // blobBytes' former name: files that have it still load
      {"blobBytes", 16 * kib, 256 * mib, &out.blob_bytes},
      {"stepTimeoutMs", 0, 365LL * 24 * 3600 * 1000, &out.step_timeout_ms},
      {"chainElements", 1, 10'000'000, &out.chain_elements},
      {"retainedBytes", 0, 64 * 1024 * mib, &out.retained_bytes},
      {"signalKeepMs", 0, 365LL * 24 * 3600 * 1000, &out.signal_keep_ms},
      {"keptSignals", 0, 10'000'000, &out.kept_signals},
      {"schedules", 0, 1'000'000, &out.schedules},
      {"publishedVersions", 0, 1'000'000, &out.published_versions},
  };
  for (const auto& e : entries)
    if (auto r = read_int(l, e.key, e.min, e.max, *e.out, at); !r) return r;
  return {};
}

}  // namespace

expected<config_file> parse_config(std::string_view text) {
  if (text.size() > max_config_bytes) return make_error(codes::too_large, "a config file is at most 1 MiB");
  auto j = json::parse(text, nullptr, false, /*ignore_comments=*/true);
  if (j.is_discarded()) return make_error(codes::bad_json, "not valid JSON");
  if (!j.is_object()) return make_error(codes::bad_json, "a config file is a JSON object (see config/coworker.json)");
  if (auto r = known_keys(j, {"requests", "events", "workers", "curve", "http", "db", "ephemeral", "scheduler", "limits",
                              "operations", "doctypes", "retainChains", "retainStoredChains", "retainStoredMs", "heartbeatMs",
                              "eventsHwm", "routeToWorkers", "otlp", "cluster"},
                          "", "a config file");
      !r)
    return r.error();
  config_file c;
  for (auto [key, out] : {std::pair{"requests", &c.requests}, std::pair{"events", &c.events},
                          std::pair{"workers", &c.workers}, std::pair{"db", &c.db}, std::pair{"doctypes", &c.doctypes}})
    if (auto r = read_string(j, key, *out); !r) return r.error();
  COWORKER_TRY(ephemeral, bool_field(j, "ephemeral", false));
  c.ephemeral = *ephemeral;

  COWORKER_TRY(curve, object_field(j, "curve"));
  if (*curve) {
    if (auto r = known_keys(**curve, {"secretKeyFile", "allowFile"}, "/curve", "curve"); !r) return r.error();
    if (auto r = read_string(**curve, "secretKeyFile", c.curve_secret_key_file, "/curve"); !r) return r.error();
    if (auto r = read_string(**curve, "allowFile", c.curve_allow_file, "/curve"); !r) return r.error();
  }
  COWORKER_TRY(http, object_field(j, "http"));
  if (*http) {
    if (auto r = known_keys(**http, {"listen", "token", "advertise"}, "/http", "http"); !r) return r.error();
    if (auto r = read_string(**http, "listen", c.http_listen, "/http"); !r) return r.error();
    if (auto r = read_string(**http, "token", c.http_token, "/http"); !r) return r.error();
    if (auto r = read_string(**http, "advertise", c.http_advertise, "/http"); !r) return r.error();
  }
  COWORKER_TRY(otlp, object_field(j, "otlp"));
  if (*otlp) {
    if (auto r = known_keys(**otlp, {"endpoint", "serviceName"}, "/otlp", "otlp"); !r) return r.error();
    if (auto r = read_string(**otlp, "endpoint", c.otlp_endpoint, "/otlp"); !r) return r.error();
    if (auto r = read_string(**otlp, "serviceName", c.otlp_service_name, "/otlp"); !r) return r.error();
  }
  COWORKER_TRY(cluster, object_field(j, "cluster"));
  if (*cluster) {
    if (auto r = known_keys(**cluster, {"node", "leaseMs"}, "/cluster", "cluster"); !r) return r.error();
    if (auto r = read_string(**cluster, "node", c.cluster_node, "/cluster"); !r) return r.error();
    if (auto r = read_int(**cluster, "leaseMs", 300, 600'000, c.lease_ms, "/cluster"); !r) return r.error();
  }
  COWORKER_TRY(scheduler, object_field(j, "scheduler"));
  if (*scheduler) {
    if (auto r = known_keys(**scheduler, {"policy", "threads"}, "/scheduler", "scheduler"); !r) return r.error();
    if (auto r = read_string(**scheduler, "policy", c.scheduler_policy, "/scheduler"); !r) return r.error();
    if (!c.scheduler_policy.empty() && c.scheduler_policy != "sharing" && c.scheduler_policy != "stealing")
      return make_error(codes::invalid_input, "\"policy\" is \"sharing\" or \"stealing\"", "/scheduler/policy");
    if (auto r = read_int(**scheduler, "threads", 0, 1024, c.threads, "/scheduler"); !r) return r.error();
  }
  COWORKER_TRY(lim, object_field(j, "limits"));
  if (*lim)
    if (auto r = read_limits(**lim, c.limits); !r) return r.error();
  COWORKER_TRY(ops, object_field(j, "operations"));
  if (*ops) c.operations = **ops;
  if (auto r = read_int(j, "retainChains", 0, 1'000'000'000, c.retain_chains); !r) return r.error();
  if (auto r = read_int(j, "retainStoredChains", 0, 1'000'000'000, c.retain_stored_chains); !r) return r.error();
  // Up to 100 years, in ms.
  if (auto r = read_int(j, "retainStoredMs", 0, 3'153'600'000'000, c.retain_stored_ms); !r) return r.error();
  if (auto r = read_int(j, "heartbeatMs", 10, 3'600'000, c.heartbeat_ms); !r) return r.error();
  if (auto r = read_int(j, "eventsHwm", 0, INT32_MAX, c.events_hwm); !r) return r.error();
  if (auto routed = j.find("routeToWorkers"); routed != j.end() && !routed->is_null()) {
    if (!routed->is_array())
      return make_error(codes::invalid_input, "\"routeToWorkers\" is an array of operation names", "/routeToWorkers");
    for (std::size_t i = 0; i < routed->size(); ++i) {
      const auto& op = (*routed)[i];
      if (!op.is_string() || !chain::detail::valid_name(op.get_ref<const std::string&>()))
        return make_error(codes::invalid_input, "an operation name", "/routeToWorkers/" + std::to_string(i));
      c.route_to_workers.push_back(op.get<std::string>());
    }
  }
  return c;
}

#undef COWORKER_TRY

}  // namespace coworker::protocol

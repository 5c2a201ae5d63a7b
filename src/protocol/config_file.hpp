// The daemon's config file (config/coworker.json lists every key), parsed into typed settings.
// Every key is checked: a wrong type, a value out of range or an unknown key is an error naming
// its JSON Pointer, so a typo never passes unnoticed (docs/security.md, "Limits").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/json.hpp"

namespace coworker::protocol {

/// A config file is at most this large.
inline constexpr std::size_t max_config_bytes = 1024 * 1024;

/// What the file sets; absent keys (and empty strings) leave the defaults.
struct config_file {
  std::string requests, events, workers;
  std::string curve_secret_key_file, curve_allow_file;  ///< as written (relative to the file)
  std::string http_listen, http_token, http_advertise;
  std::string otlp_endpoint, otlp_service_name;  ///< span export (docs/tracing.md)
  std::string db, doctypes;
  bool ephemeral = false;
  std::string scheduler_policy;  ///< "sharing" or "stealing"; empty: not set
  std::optional<std::int64_t> threads;
  struct limit_values {
    std::optional<std::int64_t> request_bytes, json_depth, steps, chain_depth, value_bytes, concurrent_runs,
        blob_bytes, step_timeout_ms, chain_elements, retained_bytes, signal_keep_ms, kept_signals, schedules,
        published_versions;
  } limits;
  std::optional<json> operations;  ///< per-operation settings, an object
  std::optional<std::int64_t> retain_chains, retain_stored_chains, retain_stored_ms, heartbeat_ms, events_hwm;
  std::vector<std::string> route_to_workers;
  std::string cluster_node;                  ///< cluster.node (docs/cluster.md)
  std::optional<std::int64_t> lease_ms;      ///< cluster.leaseMs
};

/// Parses the text of a config file (JSON; `//` and `/* */` comments allowed). Errors: bad_json,
/// too_large, unknown_field (with a hint when a key is close to a known one), invalid_input.
expected<config_file> parse_config(std::string_view text);

}  // namespace coworker::protocol

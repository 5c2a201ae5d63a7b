// Run records: JSON form, ids and clocks.
#include "coworker/run_record.hpp"

#include "core/frame.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>

namespace coworker {

namespace {
constexpr std::array<std::string_view, 8> status_names{"pending",   "scheduled", "running", "waiting",
                                                       "completed", "failed",    "skipped", "cancelled"};

json optional_string(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
}  // namespace

std::string_view to_string(run_status s) { return status_names[static_cast<std::size_t>(s)]; }

std::optional<run_status> parse_run_status(std::string_view s) {
  for (std::size_t i = 0; i < status_names.size(); ++i)
    if (status_names[i] == s) return static_cast<run_status>(i);
  return std::nullopt;
}

json to_json(const run_error& e) {
  json j{{"code", e.code}, {"message", e.message}, {"runId", e.run_id}, {"operation", e.operation}};
  if (!e.path.empty()) j["path"] = e.path;
  return j;
}

// A member added here goes into open_record (src/core/event_text.cpp) too: the PUB socket and the
// wait replies write records without building this object (tests/engine/event_text_test.cpp).
json to_json(const run_record& r) {
  json j{{"id", r.id},
         {"operation", r.operation},
         {"doctype", optional_string(r.doctype)},
         {"stepId", optional_string(r.step_id)},
         {"stepIndex", r.step_index < 0 ? json(nullptr) : json(r.step_index)},
         {"status", to_string(r.status)},
         {"created", r.created},
         {"started", r.started ? json(r.started) : json(nullptr)},
         {"finished", r.finished ? json(r.finished) : json(nullptr)},
         {"input", r.input ? *r.input : json(nullptr)},
         {"output", r.output ? *r.output : json(nullptr)},
         {"error", r.err ? to_json(*r.err) : json(nullptr)},
         {"success", r.success},
         {"recovered", r.recovered},
         {"attempts", r.attempts},
         {"parentRunId", optional_string(r.parent_run_id)},
         {"ownerRunId", optional_string(r.owner_run_id)},
         {"childRunIds", r.child_run_ids},
         {"chainId", r.chain_id},
         {"role", optional_string(r.role)},
         {"keepAlive", r.keep_alive}};
  if (r.attempt_started) j["attemptStarted"] = r.attempt_started;
  if (r.retry_at) j["retryAt"] = r.retry_at;
  if (r.start_at) j["startAt"] = r.start_at;
  if (r.redrives) j["redrives"] = r.redrives;
  if (!r.chain_name.empty()) {
    j["chainName"] = r.chain_name;
    j["chainVersion"] = r.chain_version;
    j["chainSha256"] = r.chain_sha256;
  }
  if (!r.trace_id.empty()) j["traceId"] = r.trace_id;
  if (!r.parent_span_id.empty()) j["parentSpanId"] = r.parent_span_id;
  return j;
}

expected<run_record> run_record_from_json(const json& j) {
  if (!j.is_object()) return make_error(codes::invalid_input, "a run record must be an object");
  run_record r;
  auto str = [&](const char* k) -> std::string {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
  };
  auto num = [&](const char* k) -> std::int64_t {
    auto it = j.find(k);
    return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
  };
  auto flag = [&](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_boolean() && it->get<bool>();
  };
  r.id = str("id");
  if (r.id.empty()) return make_error(codes::invalid_input, "a run record needs an id", "/id");
  r.operation = str("operation");
  r.doctype = str("doctype");
  r.step_id = str("stepId");
  r.step_index = j.contains("stepIndex") && j["stepIndex"].is_number_integer() ? j["stepIndex"].get<int>() : -1;
  auto st = parse_run_status(str("status"));
  if (!st) return make_error(codes::invalid_input, "unknown run status", "/status");
  r.status = *st;
  r.created = num("created");
  r.started = num("started");
  r.finished = num("finished");
  r.attempt_started = num("attemptStarted");
  r.retry_at = num("retryAt");
  r.start_at = num("startAt");
  if (j.contains("input") && !j["input"].is_null()) r.input = share(j["input"]);
  if (j.contains("output") && !j["output"].is_null()) r.output = share(j["output"]);
  if (auto it = j.find("error"); it != j.end() && it->is_object()) {
    auto s = [&](const char* k) { return it->contains(k) && (*it)[k].is_string() ? (*it)[k].get<std::string>() : std::string{}; };
    r.err = run_error{s("code"), s("message"), s("runId"), s("operation"), s("path")};
  }
  r.success = flag("success");
  r.recovered = flag("recovered");
  r.attempts = static_cast<int>(num("attempts"));
  r.redrives = static_cast<int>(num("redrives"));
  r.chain_name = str("chainName");
  r.chain_version = static_cast<int>(num("chainVersion"));
  r.chain_sha256 = str("chainSha256");
  r.trace_id = str("traceId");
  r.parent_span_id = str("parentSpanId");
  r.parent_run_id = str("parentRunId");
  r.owner_run_id = str("ownerRunId");
  if (auto it = j.find("childRunIds"); it != j.end() && it->is_array())
    for (const auto& c : *it)
      if (c.is_string()) r.child_run_ids.push_back(c.get<std::string>());
  r.chain_id = str("chainId");
  r.role = str("role");
  r.keep_alive = flag("keepAlive");
  return r;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string new_run_id() {
  // ULID-like: 48 bits of milliseconds, then 80 bits that start random per process and count up,
  // so ids are unique across restarts and sort by creation time within one process.
  static constexpr char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  static std::mutex mu;
  static std::int64_t last_ms = 0;
  static unsigned __int128 counter = [] {
    std::random_device rd;
    unsigned __int128 v = 0;
    for (int i = 0; i < 3; ++i) v = (v << 32) | rd();
    return v & ((static_cast<unsigned __int128>(1) << 79) - 1);  // room to count up
  }();
  std::int64_t ms;
  unsigned __int128 rnd;
  {
    std::lock_guard lock(mu);
    ms = std::max(now_ms(), last_ms);
    last_ms = ms;
    rnd = ++counter;
  }
  std::string out = "run-";
  out.resize(4 + 26);
  auto t = static_cast<std::uint64_t>(ms);
  for (int i = 9; i >= 0; --i) {
    out[4 + i] = alphabet[t & 31];
    t >>= 5;
  }
  for (int i = 25; i >= 10; --i) {
    out[4 + i] = alphabet[static_cast<unsigned>(rnd & 31)];
    rnd >>= 5;
  }
  return out;
}

}  // namespace coworker

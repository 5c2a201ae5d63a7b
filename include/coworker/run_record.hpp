// The run record (docs/run-record.md): one per run, parent or child; the engine's single source of
// truth.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/json.hpp"

namespace coworker {

/// `scheduled`: a chain accepted with a later start (startAt); `waiting`: an await step waiting for a
/// signal (docs/run-record.md, "Status"). The final ones come last (is_final).
enum class run_status { pending, scheduled, running, waiting, completed, failed, skipped, cancelled };

std::string_view to_string(run_status s);
std::optional<run_status> parse_run_status(std::string_view s);
inline bool is_final(run_status s) { return s >= run_status::completed; }

/// The error carried by a failed or cancelled run: `{code, message, runId, operation, path?}`
/// (docs/run-record.md, "The error object").
struct run_error {
  std::string code;
  std::string message;
  std::string run_id;
  std::string operation;
  std::string path;  ///< JSON Pointer, when the failure is located in the chain document
};

struct run_record {
  std::string id;
  std::string operation;        ///< "run" for chains, "parallel" for groups, "forEach" for maps
  std::string doctype;
  std::string step_id;
  int step_index = -1;          ///< position in the enclosing children; -1 for a top chain
  run_status status = run_status::pending;
  std::int64_t created = 0;     ///< ms since the epoch
  std::int64_t started = 0;
  std::int64_t finished = 0;
  /// While it runs: when its current attempt started, and (waiting for a retry) when the next one
  /// starts. Stored, so a restart keeps its deadlines and `wait`s where they were (docs/durability.md,
  /// "Timers"); 0 once it ended.
  std::int64_t attempt_started = 0;
  std::int64_t retry_at = 0;
  std::int64_t start_at = 0;  ///< a `scheduled` chain's start (startAt); 0 once it started
  value_ptr input;              ///< null handle: JSON null
  value_ptr output;
  std::optional<run_error> err;
  bool success = false;
  bool recovered = false;
  int attempts = 0;
  /// A top chain: how many times it was redriven (docs/chain-language.md, "Redrive"); 0: never.
  int redrives = 0;
  /// A run of a published chain — a run by name, or a step calling one by name: which chain, pinned
  /// (docs/chain-language.md, "Published chains"). Empty / 0 otherwise.
  std::string chain_name;
  int chain_version = 0;
  std::string chain_sha256;
  /// A traced chain's runs (docs/tracing.md): the W3C trace id (32 hex) on every record, and on the
  /// top chain's the caller's span id from its `traceparent`. Empty: not traced.
  std::string trace_id;
  std::string parent_span_id;
  std::string parent_run_id;    ///< the run before this one in the flow (docs/run-record.md)
  std::string owner_run_id;     ///< the run that started this one: its chain, group, forEach or failed run
  std::vector<std::string> child_run_ids;
  std::string chain_id;         ///< the outermost chain run
  std::string role;
  bool keep_alive = false;
};

/// A run that ended this way lets its chain go on: completed, skipped, or failed and recovered by
/// its onError fallback (docs/chain-language.md, "onError"). A redrive keeps such runs.
inline bool ended_well(const run_record& r) {
  return r.status == run_status::completed || r.status == run_status::skipped ||
         (r.status == run_status::failed && r.recovered);
}

/// The record's JSON form (docs/run-record.md), its values whole.
json to_json(const run_record& r);
json to_json(const run_error& e);

/// Reads a record back from its JSON form (store, resume). Unknown fields are ignored.
expected<run_record> run_record_from_json(const json& j);

/// A new run id: "run-" + 26 characters, unique across restarts and ordered by creation time.
std::string new_run_id();

/// Milliseconds since the Unix epoch.
std::int64_t now_ms();

}  // namespace coworker

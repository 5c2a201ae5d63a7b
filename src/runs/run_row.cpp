// run_row: a record's `fields` text and back (docs/store.md, "Run records").
#include "runs/run_row.hpp"

namespace coworker::runs {

std::string row_fields(const run_record& r, const json* output_with) {
  json j = json::object();
  j["operation"] = r.operation;
  if (!r.doctype.empty()) j["doctype"] = r.doctype;
  if (!r.step_id.empty()) j["stepId"] = r.step_id;
  if (r.step_index >= 0) j["stepIndex"] = r.step_index;
  if (r.started) j["started"] = r.started;
  if (r.finished) j["finished"] = r.finished;
  if (r.attempt_started) j["attemptStarted"] = r.attempt_started;
  if (r.retry_at) j["retryAt"] = r.retry_at;
  if (r.start_at) j["startAt"] = r.start_at;
  if (r.err) j["error"] = to_json(*r.err);
  if (r.success) j["success"] = true;
  if (r.recovered) j["recovered"] = true;
  if (r.attempts) j["attempts"] = r.attempts;
  if (r.redrives) j["redrives"] = r.redrives;
  if (!r.chain_name.empty()) {
    j["chainName"] = r.chain_name;
    j["chainVersion"] = r.chain_version;
    j["chainSha256"] = r.chain_sha256;
  }
  if (!r.trace_id.empty()) j["traceId"] = r.trace_id;
  if (!r.parent_span_id.empty()) j["parentSpanId"] = r.parent_span_id;
  if (!r.parent_run_id.empty()) j["parentRunId"] = r.parent_run_id;
  if (!r.child_run_ids.empty()) j["childRunIds"] = r.child_run_ids;
  if (!r.role.empty()) j["role"] = r.role;
  if (r.keep_alive) j["keepAlive"] = true;
  if (output_with) j["outputWith"] = *output_with;
  return dump(j);
}

expected<run_record> record_from_row(row r) {
  auto j = json::parse(r.fields, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return make_error(codes::store_error, "run " + r.id + ": its stored fields are not a JSON object");
  j["id"] = std::move(r.id);
  j["chainId"] = std::move(r.chain_id);
  j["ownerRunId"] = std::move(r.owner_id);
  j["status"] = std::move(r.status);
  j["created"] = r.created;
  json with;
  if (auto it = j.find("outputWith"); it != j.end()) {
    with = std::move(*it);
    j.erase(it);
  }
  auto rec = run_record_from_json(j);
  if (!rec) return make_error(codes::store_error, "run " + j["id"].get<std::string>() + ": " + rec.error().message);
  rec->input = std::move(r.input);
  if (with.is_object() && r.output) {
    with[referenced_member] = *r.output;
    rec->output = share(std::move(with));
  } else {
    rec->output = std::move(r.output);
  }
  return rec;
}

}  // namespace coworker::runs

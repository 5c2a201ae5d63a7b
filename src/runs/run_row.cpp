// run_row: a record's `fields` text and back (docs/store.md, "Run records").
#include "runs/run_row.hpp"

namespace coworker::runs {

namespace {
void key(std::string& out, std::string_view k) {
  if (out.size() > 1) out += ',';
  out += '"';
  out += k;
  out += "\":";
}
void int_field(std::string& out, std::string_view k, std::int64_t v) {
  key(out, k);
  out += std::to_string(v);
}
void text_field(std::string& out, std::string_view k, std::string_view v) {
  key(out, k);
  append_string_text(out, v);
}
void true_field(std::string& out, std::string_view k) {
  key(out, k);
  out += "true";
}
}  // namespace

// Written as text, in the key order dump() gives a JSON object (std::map: by bytes), so the text is
// what dump() of the same object was (tests/unit/store/run_store_test.cpp checks both). This runs on
// the committer for every run of every batch.
std::string row_fields(const run_record& r, const json* output_with) {
  std::string out;
  out.reserve(160 + 32 * r.child_run_ids.size());
  out += '{';
  if (r.attempt_started) int_field(out, "attemptStarted", r.attempt_started);
  if (r.attempts) int_field(out, "attempts", r.attempts);
  if (!r.chain_name.empty()) {
    text_field(out, "chainName", r.chain_name);
    text_field(out, "chainSha256", r.chain_sha256);
    int_field(out, "chainVersion", r.chain_version);
  }
  if (!r.child_run_ids.empty()) {
    key(out, "childRunIds");
    out += '[';
    for (std::size_t i = 0; i < r.child_run_ids.size(); ++i) {
      if (i) out += ',';
      append_string_text(out, r.child_run_ids[i]);
    }
    out += ']';
  }
  if (!r.doctype.empty()) text_field(out, "doctype", r.doctype);
  if (r.err) {
    key(out, "error");
    append_text(out, to_json(*r.err));
  }
  if (r.finished) int_field(out, "finished", r.finished);
  if (r.keep_alive) true_field(out, "keepAlive");
  text_field(out, "operation", r.operation);
  if (output_with) {
    key(out, "outputWith");
    append_text(out, *output_with);
  }
  if (!r.parent_run_id.empty()) text_field(out, "parentRunId", r.parent_run_id);
  if (!r.parent_span_id.empty()) text_field(out, "parentSpanId", r.parent_span_id);
  if (r.recovered) true_field(out, "recovered");
  if (r.redrives) int_field(out, "redrives", r.redrives);
  if (r.retry_at) int_field(out, "retryAt", r.retry_at);
  if (!r.role.empty()) text_field(out, "role", r.role);
  if (r.start_at) int_field(out, "startAt", r.start_at);
  if (r.started) int_field(out, "started", r.started);
  if (!r.step_id.empty()) text_field(out, "stepId", r.step_id);
  if (r.step_index >= 0) int_field(out, "stepIndex", r.step_index);
  if (r.success) true_field(out, "success");
  if (!r.trace_id.empty()) text_field(out, "traceId", r.trace_id);
  out += '}';
  return out;
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

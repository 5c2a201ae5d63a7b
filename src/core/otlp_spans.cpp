// Run records as OTLP spans (see otlp_spans.hpp; docs/tracing.md).
#include "core/otlp_spans.hpp"

#include "core/trace_context.hpp"

namespace coworker {

namespace {

json str_attr(const char* key, std::string_view v) { return json{{"key", key}, {"value", {{"stringValue", std::string(v)}}}}; }
json int_attr(const char* key, std::int64_t v) {
  return json{{"key", key}, {"value", {{"intValue", std::to_string(v)}}}};  // int64 as a string in OTLP JSON
}
std::string nanos(std::int64_t ms) { return std::to_string(ms) + "000000"; }

}  // namespace

json span_of(const run_record& r) {
  json s = json::object();
  s["traceId"] = r.trace_id;
  s["spanId"] = span_id_of(r.id);
  if (!r.owner_run_id.empty())
    s["parentSpanId"] = span_id_of(r.owner_run_id);
  else if (!r.parent_span_id.empty())
    s["parentSpanId"] = r.parent_span_id;
  s["name"] = r.step_id.empty() ? r.operation : r.step_id + " (" + r.operation + ")";
  s["kind"] = r.owner_run_id.empty() ? 2 : 1;  // SERVER for the chain the caller asked for, INTERNAL below
  const auto start = r.started ? r.started : r.created;
  s["startTimeUnixNano"] = nanos(start);
  s["endTimeUnixNano"] = nanos(r.finished ? r.finished : start);
  json attrs = json::array({str_attr("coworker.run_id", r.id), str_attr("coworker.chain_id", r.chain_id),
                            str_attr("coworker.operation", r.operation), str_attr("coworker.status", to_string(r.status))});
  if (!r.step_id.empty()) attrs.push_back(str_attr("coworker.step_id", r.step_id));
  if (r.attempts) attrs.push_back(int_attr("coworker.attempts", r.attempts));
  if (r.redrives) attrs.push_back(int_attr("coworker.redrives", r.redrives));
  if (!r.chain_name.empty()) attrs.push_back(str_attr("coworker.chain_name", r.chain_name + "@" + std::to_string(r.chain_version)));
  if (r.err) attrs.push_back(str_attr("coworker.error.code", r.err->code));
  s["attributes"] = std::move(attrs);
  if (ended_well(r)) {
    s["status"] = {{"code", 1}};
  } else if (r.err) {
    s["status"] = {{"code", 2}, {"message", r.err->code + ": " + r.err->message}};
  } else {
    s["status"] = {{"code", 2}, {"message", std::string(to_string(r.status))}};
  }
  return s;
}

json export_request(std::vector<json> spans, const std::string& service_name) {
  json resource{{"attributes", json::array({str_attr("service.name", service_name)})}};
  json scope{{"scope", {{"name", "coworker"}}}, {"spans", std::move(spans)}};
  return json{{"resourceSpans", json::array({json{{"resource", std::move(resource)}, {"scopeSpans", json::array({std::move(scope)})}}})}};
}

}  // namespace coworker

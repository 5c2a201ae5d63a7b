// Run records as OpenTelemetry spans, in OTLP/HTTP's JSON encoding (docs/tracing.md). Pure
// functions: coworker::otlp_exporter (edges/otlp_exporter.cpp) feeds them the ended records of
// the committed event log and posts what they return.
#pragma once

#include <string>
#include <vector>

#include "coworker/json.hpp"
#include "coworker/run_record.hpp"

namespace coworker {

/// The span of an ended run of a traced chain (its trace_id set): span id from its run id, parent
/// from its owner's run id (the chain's top run: the caller's span from its traceparent, or none),
/// start and end from the record, status OK (completed, skipped, failed but recovered) or ERROR
/// with the error's code and message, and the run's facts as `coworker.*` attributes.
json span_of(const run_record& r);

/// An ExportTraceServiceRequest holding the spans, under one resource (service.name).
json export_request(std::vector<json> spans, const std::string& service_name);

}  // namespace coworker

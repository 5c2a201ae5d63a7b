// W3C trace context (docs/tracing.md): the `traceparent` a chain is submitted with, the trace id
// its run records keep, and the span ids of its runs. A run's span id is derived from its run id,
// so the same run has the same span before and after a restart, and nothing but the trace id and
// the caller's span id needs storing.
#pragma once

#include <string>
#include <string_view>

#include "coworker/error.hpp"

namespace coworker {

struct trace_context {
  std::string trace_id;        ///< 32 lower-case hex digits, not all zero
  std::string parent_span_id;  ///< the caller's span (16 hex digits); empty: the chain is the trace's root
  bool sampled = true;         ///< the traceparent's sampled flag
};

/// Parses a W3C `traceparent` (version 00: `00-<32 hex>-<16 hex>-<2 hex>`; a later version's first
/// four fields as the recommendation says). Refuses upper-case hex, all-zero ids and version ff.
expected<trace_context> parse_traceparent(std::string_view text);

/// The `traceparent` a run passes on (to a worker, in a task): the trace, the run's span, the flags.
std::string format_traceparent(const trace_context& t, std::string_view span_id);

/// The span id of a run: 16 hex digits from its run id (never all zero).
std::string span_id_of(std::string_view run_id);

/// The trace id of a chain submitted without a traceparent while tracing is on: 32 hex digits from
/// its chain id, so a chain resumed after a restart keeps its trace.
std::string trace_id_of(std::string_view chain_id);

}  // namespace coworker

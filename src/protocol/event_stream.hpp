// Server-Sent Events for /api/events (docs/web.md): the framing of one message and of one run
// event. The events themselves come from the engine's event log (engine::events_after), which
// keeps a replay window for browsers that reconnect with Last-Event-ID.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/event_text.hpp"
#include "coworker/event.hpp"

namespace coworker::protocol {

/// One SSE message: `id:` (when non-zero), `event:` and `data:` lines, then a blank line.
std::string sse_message(std::string_view event_name, std::string_view data, std::uint64_t id = 0);

/// An engine event as an SSE `run` message whose data is the envelope `{seq, epoch, time, event, run}`.
std::string sse_run_event(const event& e, value_forms& forms, value_text_cache& cache);

}  // namespace coworker::protocol

// The retry decision (docs/chain-language.md, "options.retry"): whether a failed attempt is tried
// again, and after how long. Pure: the jitter's random draw comes in as an argument.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "chain/model.hpp"

namespace coworker {

/// `attempts_done` attempts have failed, the last with `code`. Returns the delay before the next
/// attempt, or nullopt when the failure is final. Cancellation is never retried. With `jitter`
/// on, the delay is `draw` (uniform in [0, 1)) times the computed one ("full jitter").
std::optional<std::chrono::milliseconds> retry_delay(const chain::retry_policy& p, int attempts_done,
                                                     const std::string& code, double draw);

}  // namespace coworker

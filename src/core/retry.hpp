// The retry decision of SPEC §4: whether a failed attempt is tried again, and after how long.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "chain/model.hpp"

namespace coworker {

/// `attempts_done` attempts have failed, the last with `code`. Returns the delay before the next
/// attempt, or nullopt when the failure is final. Cancellation is never retried.
std::optional<std::chrono::milliseconds> retry_delay(const chain::retry_policy& p, int attempts_done,
                                                     const std::string& code);

}  // namespace coworker

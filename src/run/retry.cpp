// retry_delay: delayMs × backoff^n, capped by maxDelayMs, with full jitter when asked.
#include "run/retry.hpp"

#include <algorithm>
#include <cmath>

#include "coworker/error.hpp"

namespace coworker {

std::optional<std::chrono::milliseconds> retry_delay(const chain::retry_policy& p, int attempts_done,
                                                     const std::string& code, double draw) {
  if (code == codes::cancelled || attempts_done > p.max) return std::nullopt;
  if (!p.retry_on.empty() && std::find(p.retry_on.begin(), p.retry_on.end(), code) == p.retry_on.end())
    return std::nullopt;
  double delay = p.delay_ms * std::pow(p.backoff, attempts_done - 1);
  // Capped before the conversion below: delayMs × backoff^n may pass any integer (or be inf, or
  // NaN for 0 × inf), and the timer counts nanoseconds (chain::max_duration_ms).
  delay = std::min({delay, p.max_delay_ms, static_cast<double>(chain::max_duration_ms)});
  if (!(delay > 0)) delay = 0;
  if (p.jitter && delay > 0) delay *= std::clamp(draw, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::max(0.0, delay)));
}

}  // namespace coworker

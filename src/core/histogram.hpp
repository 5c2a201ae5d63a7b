// A latency histogram with fixed bounds, as Prometheus exposes one: observed on one thread with
// relaxed atomic increments (nothing that could slow the engine), read from any other.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "coworker/engine.hpp"

namespace coworker {

class latency_histogram {
 public:
  /// Upper bounds in seconds: 0.5 ms to 60 s, roughly ×2.5 apart; +Inf is implied.
  static constexpr std::array<double, 16> bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                 0.25,   0.5,   1,      2.5,   5,     10,    30,    60};

  void observe(std::chrono::nanoseconds d);
  /// Cumulative counts per bound (+Inf last), the sum and the count.
  histogram_data read() const;

 private:
  std::array<std::atomic<std::uint64_t>, bounds.size() + 1> counts_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace coworker

// run_metrics: the counters behind /metrics (docs/web.md), fed from engine events on the event
// subscription's own thread, and their Prometheus text form. Per event it does a few increments
// under a mutex that only a scrape ever contends for.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/histogram.hpp"
#include "coworker/engine.hpp"
#include "coworker/event.hpp"

namespace coworker {

/// Gauges read when a scrape comes, from the engine and the daemon's other parts.
struct metrics_gauges {
  std::size_t active_chains = 0;
  std::uint64_t seq = 0;
  std::string epoch;
  engine_stats engine;
  std::size_t event_streams = 0;  ///< browsers following /api/events
  struct worker_counts {
    std::size_t workers = 0;
    std::size_t tasks_running = 0;
    std::size_t tasks_queued = 0;
  };
  std::optional<worker_counts> workers;  ///< set when the daemon has a worker socket
};

class run_metrics {
 public:
  /// One event: counts a start or an end by operation, and the run's duration.
  void on_event(const event& e);
  /// The Prometheus text exposition (version 0.0.4) of everything counted, plus `g`.
  std::string render(const metrics_gauges& g) const;

  std::uint64_t events() const;

 private:
  struct op_counters {
    std::uint64_t started = 0, completed = 0, failed = 0, recovered = 0, cancelled = 0, skipped = 0;
    std::unique_ptr<latency_histogram> duration = std::make_unique<latency_histogram>();
  };
  mutable std::mutex mu_;
  std::map<std::string, op_counters, std::less<>> ops_;
  std::uint64_t events_ = 0;
  std::int64_t in_flight_ = 0;
};

/// A label value escaped for the text format (backslash, double quote, newline).
std::string prometheus_label(std::string_view v);

}  // namespace coworker

// coworker::otlp_exporter: every run of a traced chain as an OpenTelemetry span, posted to an
// OTLP/HTTP endpoint in its JSON encoding (docs/tracing.md). Spans are built from the committed
// event log (a run's span when its end is stored), with span ids derived from run ids: a chain
// resumed after a crash keeps its trace, and its runs that end after the restart join it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "coworker/engine.hpp"

namespace coworker {

struct otlp_config {
  /// http://HOST:PORT[/PATH]; without a path (or "/"), /v1/traces is posted to (an OTLP/HTTP
  /// collector's default). https is not built in: use a local collector.
  std::string endpoint;
  std::string service_name = "coworker";  ///< the resource's service.name
  std::size_t batch = 512;                ///< spans per request at most
  std::size_t max_queued = 100000;        ///< spans held while the endpoint is down; the oldest go first
  std::chrono::milliseconds timeout{5000};  ///< per request
};

class otlp_exporter {
 public:
  /// Set engine_config::trace_all on the engine as well, so chains submitted without a traceparent
  /// are traced too (the command line does).
  otlp_exporter(engine& eng, otlp_config cfg);
  ~otlp_exporter();  ///< stop()
  otlp_exporter(const otlp_exporter&) = delete;
  otlp_exporter& operator=(const otlp_exporter&) = delete;

  /// Checks the endpoint (invalid_input: not an http:// URL) and starts following the events.
  expected<void> start();
  /// Stops following, posts what is queued (for up to `flush` more), and ends. Idempotent.
  void stop(std::chrono::milliseconds flush = std::chrono::milliseconds(3000));

  struct counters {
    std::uint64_t exported = 0;  ///< spans the endpoint accepted
    std::uint64_t dropped = 0;   ///< spans given up: the queue was full, the endpoint refused them, or stop() came
    std::uint64_t failed_requests = 0;
  };
  counters stats() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace coworker

// coworker::service: exposes an engine over ZeroMQ (docs/protocol.md): requests on a ROUTER socket, every
// run event on a PUB socket, a heartbeat at least once a second.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "coworker/engine.hpp"
#include "coworker/security.hpp"

namespace coworker {

struct service_config {
  std::string requests = "tcp://127.0.0.1:5570";  ///< ROUTER; "tcp://127.0.0.1:*" picks a free port
  std::string events = "tcp://127.0.0.1:5571";    ///< PUB
  std::chrono::milliseconds heartbeat{500};       ///< at least once a second
  /// ROUTER for remote workers ("tcp://127.0.0.1:5572" in `coworker serve`); empty: none.
  std::string workers;
  std::chrono::milliseconds worker_heartbeat{1000};  ///< a worker silent for 3 of these is lost
  /// Built-in operations workers may take over while they serve them (e.g. summarize, extract,
  /// interpret: route the AI operations to a worker without changing chains).
  std::vector<std::string> routed_to_workers;
  /// Events queued per subscriber before ZeroMQ drops (the subscriber then sees a seq gap and
  /// resyncs by snapshot). 0 would mean unbounded memory for a stalled subscriber.
  int events_hwm = 1000000;
  /// CURVE with an allow-list on every socket (docs/security.md); off by default.
  curve_config curve;
};

/// Remote workers and their tasks, for monitoring (/metrics).
struct worker_stats {
  std::size_t workers = 0;        ///< connected
  std::size_t tasks_running = 0;  ///< handed to a worker, not answered yet
  std::size_t tasks_queued = 0;   ///< waiting for a worker with a free slot
};

class service {
 public:
  service(engine& eng, service_config cfg = {});
  ~service();  ///< stop()
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  /// Binds the sockets and starts serving; an error names the endpoint that failed. With CURVE, it
  /// then checks that a client with a key that is not allowed and a plain client are refused on every
  /// socket (about 300 ms), and stops again with an `insecure` error if either gets through.
  expected<void> start();
  /// Publishes what is queued, then closes the sockets. Idempotent.
  void stop();
  /// The bound endpoints (with the real port when a wildcard was asked for).
  std::string requests_endpoint() const;
  std::string events_endpoint() const;
  std::string workers_endpoint() const;
  /// With CURVE: the server's public key (Z85), which clients need; else empty.
  std::string curve_public_key() const;
  /// With CURVE: clients refused so far (the start-up self-check's own probes not counted).
  std::uint64_t refused_clients() const;
  /// Counts as of the gateway's last loop (at most 100 ms old); zeros without a worker socket.
  worker_stats workers() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace coworker

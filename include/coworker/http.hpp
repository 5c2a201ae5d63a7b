// coworker::http_gateway: a live web view of the runs, a JSON API mirroring the request types, a
// Server-Sent Events stream of the run events and Prometheus metrics, over HTTP (docs/web.md).
// Off unless started; loopback by default; an optional bearer token guards the API.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "coworker/engine.hpp"

namespace coworker {

class service;

struct http_config {
  /// HOST:PORT ("[::1]:8080" for IPv6); port 0 picks a free one (see http_gateway::port()).
  std::string listen = "127.0.0.1:8080";
  /// When set, /api/... and /metrics need `Authorization: Bearer TOKEN` (or `?token=TOKEN`, for
  /// EventSource, which cannot set headers). Required to listen on a non-loopback address.
  std::string token;
  /// The URL other machines reach this web view at, advertised to the other nodes of a cluster
  /// (docs/cluster.md, "Finding the nodes"); default "http://HOST:PORT" of `listen`, with the
  /// machine's host name for 0.0.0.0 or ::. Pages served by those nodes may read this one's
  /// snapshot and events (CORS) to follow the whole cluster.
  std::string advertise;
  std::size_t threads = 16;            ///< HTTP worker threads (each event stream holds one)
  std::size_t max_event_streams = 8;   ///< concurrent /api/events streams; more get 503
  std::chrono::milliseconds stream_heartbeat{1000};  ///< an event stream's heartbeat when idle
};

class http_gateway {
 public:
  /// `svc`, when given, adds its worker counts to /metrics.
  explicit http_gateway(engine& eng, http_config cfg = {}, const service* svc = nullptr);
  ~http_gateway();  ///< stop()
  http_gateway(const http_gateway&) = delete;
  http_gateway& operator=(const http_gateway&) = delete;

  /// Binds and starts serving. Errors: invalid_input (a bad address, or a non-loopback address
  /// without a token), bind_failed. Sets SIGPIPE to ignored when it has its default action (a
  /// browser closing a connection must not end the process).
  expected<void> start();
  /// Ends the event streams and the server; requests in progress finish. Idempotent.
  void stop();
  /// The bound address, e.g. "127.0.0.1:8080" (with the real port when 0 was asked for).
  std::string address() const;
  int port() const;
  /// The URL advertised (http_config::advertise, or the one made from the bound address).
  std::string url() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace coworker

// The ZAP handler that turns CURVE into an allow-list (CURVE alone accepts any client key), and the
// start-up self-check that proves clients without an allowed key are refused (docs/security.md, "The start-up self-check").
// The handler's socket lives on the service's gateway thread like the others; the self-check runs on
// the thread that starts the service, with sockets of its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <zmq.hpp>

#include "coworker/error.hpp"

namespace coworker {

/// The ZAP domains of the service's sockets: the handler answers for these only.
inline constexpr const char* zap_domain_requests = "coworker.requests";
inline constexpr const char* zap_domain_events = "coworker.events";
inline constexpr const char* zap_domain_workers = "coworker.workers";

/// Makes `s` a CURVE server with `secret_key` (Z85) whose clients are checked by the ZAP handler
/// under `domain`. Call before bind.
void make_curve_server(zmq::socket_t& s, const std::string& secret_key, const std::string& domain);

/// Makes `s` a CURVE client of the server with public key `server_key` (all keys Z85).
void make_curve_client(zmq::socket_t& s, const std::string& server_key, const std::string& public_key,
                       const std::string& secret_key);

class zap_handler {
 public:
  using log_fn = std::function<void(std::string_view level, std::string_view text)>;
  /// `allowed`: the Z85 public keys of the clients let in.
  zap_handler(zmq::context_t& ctx, const std::vector<std::string>& allowed, log_fn log);

  /// Binds inproc://zeromq.zap.01 in the context; must happen before the server sockets accept.
  expected<void> bind();
  zmq::socket_t& socket() { return sock_; }
  /// Gateway thread: answer the waiting ZAP requests.
  void on_request();
  void close() { sock_.close(); }

  /// Any thread: whether a client with this key (Z85) was refused on this domain.
  bool refused(const std::string& domain, const std::string& public_key) const;
  /// Any thread: a key that is refused without a log line (the self-check's own probes).
  void quiet(const std::string& public_key);
  /// Any thread: refusals so far, the self-check's excluded.
  std::uint64_t refused_count() const;

 private:
  void log_refusal(const std::string& address, const std::string& domain, const std::string& mechanism,
                   const std::string& key);

  zmq::socket_t sock_;
  std::set<std::string> allowed_;  ///< 32-byte binary keys
  log_fn log_;

  mutable std::mutex mu_;
  std::set<std::string> quiet_;
  std::set<std::pair<std::string, std::string>> refused_quiet_;  ///< (domain, Z85 key) of probes
  std::uint64_t refused_ = 0;

  // Log throttling (gateway thread only): each key on each socket at most once a minute, and at most
  // `max_lines_` lines a minute in all; what is left out is counted in the next line.
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> last_logged_;
  std::chrono::steady_clock::time_point window_start_{};
  int lines_in_window_ = 0;
  std::uint64_t unlogged_ = 0;
  static constexpr int max_lines_ = 20;
};

/// One endpoint the self-check probes: a ROUTER (requests, workers: the probes send a ping and must
/// get no answer) or a PUB (events: the probes subscribe to everything and must receive nothing).
struct probe_target {
  std::string name;      ///< for messages: "requests", "events", "workers"
  std::string endpoint;  ///< as bound, with the real port
  bool publisher = false;
  std::string zap_domain;  ///< where `zap` must see the unknown key refused; empty: not checked
};

/// The start-up self-check: to every target, a client with a freshly made key that is not allowed
/// and a plain client (no CURVE) connect and ask for something. It fails when any of them gets an
/// answer within `window`, or when `zap` (if not null) has not refused the unknown key on each
/// target's domain within `seen_bound` (milliseconds normally; the bound is for a loaded machine).
/// `provoke` is called once the refusals are seen (the service publishes a heartbeat then, so an
/// admitted subscriber would receive it).
expected<void> check_refused(const std::vector<probe_target>& targets, const std::string& server_public_key,
                             zap_handler* zap, const std::function<void()>& provoke,
                             std::chrono::milliseconds window = std::chrono::milliseconds(300),
                             std::chrono::milliseconds seen_bound = std::chrono::seconds(5));

}  // namespace coworker

// `coworker serve`: the daemon. Takes chains over ZeroMQ and publishes every run event.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "commands.hpp"
#include "coworker/http.hpp"
#include "coworker/service.hpp"
#include "engine_options.hpp"
#include "protocol/config_file.hpp"
#include "store/database.hpp"

namespace coworker::cli {

namespace {

struct serve_args {
  std::string requests;
  std::string events;
  std::string workers;
  std::vector<std::string> routed;
  std::string curve_secret;  ///< the server's secret key file
  std::string curve_allow;   ///< the allow-list file
  std::string http;        // HOST:PORT of the web view and JSON API; empty: off
  std::string http_token;  // else $COWORKER_HTTP_TOKEN, else the config's http.token
  std::string http_advertise;  // the web view's URL for the other nodes of a cluster
  engine_args engine;
};

/// Applies the service keys of the JSON config file (config/coworker.json lists every key) under the
/// command line flags; make_engine_config applies its engine keys.
expected<void> apply_service_config(const std::string& file, serve_args& a, service_config& svc) {
  auto parsed = read_config_file(file);
  if (!parsed) return parsed.error();
  const auto& c = *parsed;
  auto set = [](std::string& flag, const std::string& from_file) {
    if (flag.empty()) flag = from_file;
  };
  set(a.requests, c.requests);
  set(a.events, c.events);
  set(a.workers, c.workers);
  // Key files named in the config file are found beside it.
  auto beside = [&](std::string& out, const std::string& name) {
    if (!out.empty() || name.empty()) return;
    std::filesystem::path p = name;
    out = p.is_absolute() ? p.string() : (std::filesystem::path(file).parent_path() / p).string();
  };
  beside(a.curve_secret, c.curve_secret_key_file);
  beside(a.curve_allow, c.curve_allow_file);
  set(a.http, c.http_listen);
  set(a.http_token, c.http_token);
  set(a.http_advertise, c.http_advertise);
  if (c.heartbeat_ms) svc.heartbeat = std::chrono::milliseconds(*c.heartbeat_ms);
  if (c.events_hwm) svc.events_hwm = static_cast<int>(*c.events_hwm);
  for (const auto& op : c.route_to_workers) svc.routed_to_workers.push_back(op);
  return {};
}

/// The CURVE section of the service from the key files; both or neither.
expected<void> load_curve(const serve_args& a, service_config& svc) {
  if (a.curve_secret.empty() && a.curve_allow.empty()) return {};
  if (a.curve_secret.empty() || a.curve_allow.empty())
    return make_error(codes::invalid_input,
                      a.curve_secret.empty()
                          ? "--curve-allow needs --curve-secret (the server's secret key file; see coworker keygen)"
                          : "--curve-secret needs --curve-allow (a file of allowed client public keys): without "
                            "an allow-list CURVE lets every key in");
  if (!curve_available()) return make_error(codes::no_curve, "CURVE was asked for but this libzmq has no CURVE");
  auto secret = read_curve_key_file(a.curve_secret);
  if (!secret) return make_error(codes::invalid_input, "--curve-secret: " + secret.error().message);
  struct stat st;
  if (::stat(a.curve_secret.c_str(), &st) == 0 && (st.st_mode & 077))
    std::fprintf(stderr, "coworker serve: warning: the secret key %s is readable by others (chmod 600 it)\n",
                 a.curve_secret.c_str());
  auto allowed = read_curve_key_list(a.curve_allow);
  if (!allowed) return make_error(codes::invalid_input, "--curve-allow: " + allowed.error().message);
  svc.curve.server_secret_key = *secret;
  svc.curve.allowed_client_keys = *allowed;
  return {};
}

/// Whether a ZeroMQ endpoint can only be reached from this machine.
bool local_only(const std::string& ep) {
  if (ep.rfind("tcp://", 0) != 0) return ep.rfind("ipc://", 0) == 0 || ep.rfind("inproc://", 0) == 0;
  auto host = ep.substr(6, ep.rfind(':') == std::string::npos ? std::string::npos : ep.rfind(':') - 6);
  return host.rfind("127.", 0) == 0 || host == "localhost" || host == "[::1]" || host == "::1";
}

int serve(serve_args a) {
  // Block the stop signals before any thread starts, so sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  otlp_config otlp;
  auto cfg = make_engine_config(a.engine, &otlp);
  if (!cfg) return std::fprintf(stderr, "coworker: %s\n", cfg.error().message.c_str()), 2;
  cfg->log_sink = [](std::string_view level, std::string_view text) {
    std::fprintf(stderr, "[%.*s] %.*s\n", static_cast<int>(level.size()), level.data(), static_cast<int>(text.size()),
                 text.data());
  };
  service_config svc;
  if (const char* t = std::getenv("COWORKER_HTTP_TOKEN"); t && *t && a.http_token.empty()) a.http_token = t;
  if (std::error_code ec; !a.engine.config_file.empty() && !std::filesystem::is_directory(a.engine.config_file, ec))
    if (auto r = apply_service_config(a.engine.config_file, a, svc); !r)
      return std::fprintf(stderr, "coworker: %s\n", r.error().message.c_str()), 2;
  if (!a.requests.empty()) svc.requests = a.requests;
  if (!a.events.empty()) svc.events = a.events;
  svc.workers = a.workers.empty() ? "tcp://127.0.0.1:5572" : a.workers;
  if (svc.workers == "none") svc.workers.clear();
  svc.routed_to_workers.insert(svc.routed_to_workers.end(), a.routed.begin(), a.routed.end());
  if (auto r = load_curve(a, svc); !r)
    return std::fprintf(stderr, "coworker: %s\n", r.error().message.c_str()), 2;

  // A node that lost its lease (docs/cluster.md) has stopped its runs: the daemon stops, non-zero,
  // for its supervisor to start it again as a new node.
  static std::atomic<bool> fenced{false};
  cfg->on_fenced = [](const std::string&) {
    fenced.store(true);
    ::kill(::getpid(), SIGTERM);
  };
  engine eng(*cfg);
  if (eng.startup_error()) {
    std::fprintf(stderr, "coworker: cannot start: %s\n", eng.startup_error()->message.c_str());
    return 2;
  }
  auto spans = start_otlp(eng, otlp);
  if (!spans) return std::fprintf(stderr, "coworker: %s\n", spans.error().message.c_str()), 2;
  if (*spans) std::fprintf(stderr, "coworker serve: exporting spans to %s\n", otlp.endpoint.c_str());
  service s(eng, svc);
  if (auto r = s.start(); !r) {
    std::fprintf(stderr, "coworker: %s%s\n", r.error().message.c_str(),
                 r.error().code == codes::insecure ? ": not serving" : "");
    return 2;
  }
  if (svc.curve.enabled()) {
    std::fprintf(stderr,
                 "coworker serve: CURVE on every socket, %zu allowed client key%s; server public key %s; "
                 "self-check passed (a key that is not allowed and a plain client were refused)\n",
                 svc.curve.allowed_client_keys.size(), svc.curve.allowed_client_keys.size() == 1 ? "" : "s",
                 s.curve_public_key().c_str());
  } else {
    for (const auto& ep : {s.requests_endpoint(), s.events_endpoint(), s.workers_endpoint()})
      if (!ep.empty() && !local_only(ep))
        std::fprintf(stderr,
                     "coworker serve: warning: %s is reachable from other machines without CURVE: whoever "
                     "connects can submit chains and read every event (docs/security.md)\n",
                     ep.c_str());
  }
  std::unique_ptr<http_gateway> web;
  if (!a.http.empty()) {
    http_config hc;
    hc.listen = a.http;
    hc.token = a.http_token;
    hc.advertise = a.http_advertise;
    web = std::make_unique<http_gateway>(eng, hc, &s);
    if (auto r = web->start(); !r) {
      std::fprintf(stderr, "coworker: %s\n", r.error().message.c_str());
      return 2;
    }
    std::fprintf(stderr, "coworker serve: web view on http://%s/%s\n", web->address().c_str(),
                 hc.token.empty() ? "" : " (token required)");
  }
  std::fprintf(stderr, "coworker serve: requests on %s, events on %s, workers on %s, store %s (epoch %s, seq %llu)\n",
               s.requests_endpoint().c_str(), s.events_endpoint().c_str(),
               s.workers_endpoint().empty() ? "(none)" : s.workers_endpoint().c_str(),
               cfg->db_path.empty() ? "in memory" : store::sql::display_name(cfg->db_path).c_str(), eng.epoch().c_str(),
               static_cast<unsigned long long>(eng.seq()));
  int sig = 0;
  sigwait(&stop_signals, &sig);
  if (fenced.load()) {
    // Cut off from its database, a node may have threads inside calls that do not return (a lost
    // network does not always end a connection): it has nothing left to write, so it exits after
    // 5 s whatever still waits.
    std::thread([] {
      std::this_thread::sleep_for(std::chrono::seconds(5));
      std::fprintf(stderr, "coworker serve: stopped: this node lost its lease to another node; calls to the "
                           "database it could not end were left behind\n");
      std::_Exit(3);
    }).detach();
    eng.shutdown();
    if (web) web->stop();
    s.stop();
    std::fprintf(stderr, "coworker serve: stopped: this node lost its lease to another node (see above)\n");
    return 3;
  }
  // Durable: the chains stay as stored and resume at the next start; in memory they end cancelled
  // while the events still go out (docs/durability.md, "Stopping").
  std::fprintf(stderr, "coworker serve: %s, %s %zu chains in flight%s\n", sig == SIGINT ? "SIGINT" : "SIGTERM",
               cfg->db_path.empty() ? "cancelling" : "leaving", eng.active_chains(),
               cfg->db_path.empty() ? "" : " to resume at the next start");
  eng.shutdown();
  if (web) web->stop();
  s.stop();
  std::fprintf(stderr, "coworker serve: stopped\n");
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, dispatch& d) {
  auto a = std::make_shared<serve_args>();
  auto* cmd = app.add_subcommand("serve", "Run the daemon: chains over ZeroMQ requests, run events over PUB");
  cmd->add_option("--config", a->engine.config_file, "JSON config file (see config/coworker.json)");
  cmd->add_option("--requests", a->requests, "ROUTER endpoint for requests (default tcp://127.0.0.1:5570)");
  cmd->add_option("--events", a->events, "PUB endpoint for events (default tcp://127.0.0.1:5571)");
  cmd->add_option("--workers", a->workers, "ROUTER endpoint for remote workers (default tcp://127.0.0.1:5572; none: off)");
  cmd->add_option("--http", a->http, "serve the web view, JSON API and /metrics on HOST:PORT (e.g. 127.0.0.1:8080)");
  cmd->add_option("--http-token", a->http_token, "token the HTTP API requires (default: $COWORKER_HTTP_TOKEN)");
  cmd->add_option("--http-advertise", a->http_advertise,
                  "the web view's URL for the other nodes of a cluster (default http://HOST:PORT of --http)");
  cmd->add_option("--route-to-workers", a->routed, "built-in operations workers may serve (e.g. summarize)");
  cmd->add_option("--curve-secret", a->curve_secret, "require CURVE: the server's secret key file (coworker keygen)");
  cmd->add_option("--curve-allow", a->curve_allow, "with CURVE: file of allowed client public keys, one per line");
  cmd->add_option("--db", a->engine.db, "store file (default: $COWORKER_DB, else ~/.local/share/coworker/coworker.db)");
  cmd->add_option("--node", a->engine.node, "this node's name in a cluster (a postgresql:// store, docs/cluster.md; default: host name and pid)");
  cmd->add_flag("--ephemeral", a->engine.ephemeral, "keep nothing on disk");
  cmd->add_option("--doctypes", a->engine.doctypes_dir, "directory with extra doctype schemas");
  cmd->add_option("--send-to", a->engine.send_to, "where `send` delivers: outbox or file:PATH");
  cmd->add_option("--threads", a->engine.threads, "scheduler threads (default: the number of cores)");
  cmd->add_option("--otlp", a->engine.otlp, "export every run as a span to this OTLP/HTTP endpoint (http://HOST:4318)");
  cmd->callback([a, &d] { d.run = [a] { return serve(*a); }; });
}

}  // namespace coworker::cli

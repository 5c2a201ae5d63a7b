// The HTTP endpoint: cpp-httplib's server on a thread of its own with a pool of worker threads.
// One engine subscription feeds the metrics (O(1) per event); each /api/events stream reads the
// engine's event log after its own seq (engine::events_after) and formats and writes on its own
// worker thread.
#include "coworker/http.hpp"

#include <algorithm>
#include <charconv>
#include <csignal>
#include <mutex>
#include <thread>

#include <httplib.h>

#include "core/metrics.hpp"
#include "coworker/service.hpp"
#include "protocol/advertised.hpp"
#include "protocol/event_stream.hpp"
#include "protocol/http_access.hpp"
#include "protocol/http_api.hpp"
#include "protocol/request_handler.hpp"
#include "web_assets.hpp"
#include "core/thread_name.hpp"

namespace coworker {

namespace {

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump(body), "application/json");
}

void send_error(httplib::Response& res, int status, const char* code, const std::string& message) {
  send_json(res, status, protocol::error_reply(make_error(code, message)));
}

std::uint64_t parse_seq(const std::string& text, bool& ok) {
  std::uint64_t v = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  ok = !text.empty() && r.ec == std::errc() && r.ptr == text.data() + text.size();
  return v;
}

/// cpp-httplib compresses with brotli whenever a client accepts it (every browser does), at its
/// slowest quality: 2.5 s for a 1.1 MB snapshot against 25 ms with gzip. The server offers gzip
/// only, so no response is slower compressed than plain: every Accept-Encoding token naming br
/// is taken out before httplib picks an encoding. (The request is the server's own object, which
/// httplib hands on as const.)
void offer_gzip_only(const httplib::Request& req) {
  auto& headers = const_cast<httplib::Request&>(req).headers;
  auto [from, to] = headers.equal_range("Accept-Encoding");
  for (auto it = from; it != to; ++it) {
    std::string kept;
    std::size_t start = 0;
    while (start <= it->second.size()) {
      auto comma = it->second.find(',', start);
      if (comma == std::string::npos) comma = it->second.size();
      auto token = it->second.substr(start, comma - start);
      if (token.find("br") == std::string::npos && token.find_first_not_of(' ') != std::string::npos)
        kept += (kept.empty() ? "" : ",") + token;
      start = comma + 1;
    }
    it->second = kept;
  }
}

}  // namespace

struct http_gateway::impl {
  /// One /api/events stream: where it is, and its own cache of value texts. A member type, not one of
  /// the anonymous namespace: the stream's callback, a member of `impl`, holds one.
  struct stream_state {
    std::uint64_t cursor = 0;  ///< the last seq sent (or the one the stream starts after)
    bool resync = false;       ///< answer `resync` at once
    bool opened = false;
    value_text_cache texts{256};
  };

  engine& eng;
  http_config cfg;
  const service* svc;
  httplib::Server server;
  protocol::http_api api;
  run_metrics metrics;
  subscription sub;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> streams{0};
  std::thread thread;
  protocol::listen_address where;
  std::string url;  // advertised
  bool started = false;
  // The web views of the other nodes of the cluster, whose pages may read this one's API (CORS).
  std::mutex peers_mu;
  std::vector<std::string> peer_origins;
  std::chrono::steady_clock::time_point peers_read{};

  impl(engine& e, http_config c, const service* s) : eng(e), cfg(std::move(c)), svc(s), api(e) {}

  /// Token, Host and Content-Type checks for /api and /metrics; the page itself loads freely
  /// (it asks for the token when the API answers 401).
  httplib::Server::HandlerResponse guard(const httplib::Request& req, httplib::Response& res) {
    const bool guarded = req.path.rfind("/api/", 0) == 0 || req.path == "/metrics";
    if (!guarded) return httplib::Server::HandlerResponse::Unhandled;
    allow_peer_origin(req, res);
    if (!cfg.token.empty()) {
      const auto authorization = req.get_header_value("Authorization");
      const auto query_token = req.get_param_value("token");
      auto given = protocol::bearer_token(authorization);
      if (given.empty()) given = query_token;
      if (protocol::token_matches(cfg.token, given)) return httplib::Server::HandlerResponse::Unhandled;
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(res, 401, codes::unauthorized, "this endpoint needs the token: Authorization: Bearer TOKEN");
      return httplib::Server::HandlerResponse::Handled;
    }
    // Without a token, only pages of this origin may call: another site's page that renames
    // itself to 127.0.0.1 (DNS rebinding) sends its own Host; a form posted from another site
    // cannot send application/json without a CORS preflight, which this server never grants.
    if (!protocol::is_loopback_host_header(req.get_header_value("Host"))) {
      send_error(res, 403, codes::unauthorized, "the Host header must name a loopback address when no token is set");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method == "POST" && req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
      send_error(res, 415, codes::bad_json, "POST bodies are sent as Content-Type: application/json");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }

  /// A page served by another node of the cluster may read this node's API with GET (its snapshot
  /// and its events: the page follows every node, docs/web.md, "A cluster"); every other origin
  /// is refused by the browser, as before. The token (or the loopback Host) is checked all the same.
  void allow_peer_origin(const httplib::Request& req, httplib::Response& res) {
    if (req.method != "GET" || !req.has_header("Origin")) return;
    const auto origin = protocol::url_origin(req.get_header_value("Origin"));
    if (origin.empty() || origin == protocol::url_origin(url)) return;
    if (!is_peer(origin)) return;
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
  }

  /// Whether `origin` is the web view of a live node. The list is read from the store again when an
  /// origin is not in it, at most every two seconds (a stranger's page cannot make it query more),
  /// and every 30 s anyway (a node gone is not a peer any more).
  bool is_peer(const std::string& origin) {
    std::lock_guard lock(peers_mu);
    auto known = [&] { return std::find(peer_origins.begin(), peer_origins.end(), origin) != peer_origins.end(); };
    const auto age = std::chrono::steady_clock::now() - peers_read;
    if (age < std::chrono::seconds(2) || (age < std::chrono::seconds(30) && known())) return known();
    const auto now = std::chrono::steady_clock::now();
    peers_read = now;
    auto nodes = eng.nodes();
    if (!nodes) return known();
    peer_origins.clear();
    for (const auto& n : *nodes)
      if (auto http = n.addresses.find("http"); http != n.addresses.end() && http->is_string())
        if (auto o = protocol::url_origin(http->get<std::string>()); !o.empty()) peer_origins.push_back(o);
    return known();
  }

  void serve_api(const httplib::Request& req, httplib::Response& res) {
    protocol::api_request r{req.method, req.path, {}, req.body, req.get_header_value("traceparent")};
    for (const auto& [k, v] : req.params)
      if (k != "token") r.params.emplace(k, v);
    auto out = api.handle(r, stopping);
    if (!out.text.empty()) {
      res.status = out.status;
      res.set_content(std::move(out.text), "application/json");
      return;
    }
    send_json(res, out.status, out.body);
  }

  void serve_asset(const httplib::Request& req, httplib::Response& res) {
    auto* a = find_web_asset(req.path == "/" ? "/index.html" : req.path);
    if (!a) return send_error(res, 404, codes::not_found, "no page " + req.path);
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::string(a->body), std::string(a->content_type).c_str());
  }

  void serve_metrics(httplib::Response& res) {
    metrics_gauges g;
    g.active_chains = eng.active_chains();
    g.seq = eng.seq();
    g.epoch = eng.epoch();
    g.engine = eng.stats();
    g.event_streams = streams.load();
    if (svc && !svc->workers_endpoint().empty()) {
      auto w = svc->workers();
      g.workers = metrics_gauges::worker_counts{w.workers, w.tasks_running, w.tasks_queued};
    }
    res.set_content(metrics.render(g), "text/plain; version=0.0.4; charset=utf-8");
  }

  /// GET /api/events?since=SEQ&epoch=EPOCH: SSE from the event after SEQ (Last-Event-ID wins when
  /// the browser reconnects); a `resync` event when that is no longer possible.
  void serve_events(const httplib::Request& req, httplib::Response& res) {
    if (streams.fetch_add(1) >= cfg.max_event_streams) {
      streams.fetch_sub(1);
      return send_error(res, 503, codes::busy, "too many event streams (" + std::to_string(cfg.max_event_streams) + ")");
    }
    auto st = std::make_shared<stream_state>();
    bool ok = false;
    st->cursor = eng.seq();
    if (req.has_header("Last-Event-ID")) {
      st->cursor = parse_seq(req.get_header_value("Last-Event-ID"), ok);
      st->resync = !ok;
    } else if (req.has_param("since")) {
      st->cursor = parse_seq(req.get_param_value("since"), ok);
      st->resync = !ok;
    }
    if (req.has_param("epoch") && req.get_param_value("epoch") != eng.epoch()) st->resync = true;
    if (st->cursor > eng.seq()) st->resync = true;
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, st](std::size_t, httplib::DataSink& sink) { return stream_step(*st, sink); },
        [this](bool) { streams.fetch_sub(1); });
  }

  bool stream_step(stream_state& st, httplib::DataSink& sink) {
    if (stopping.load()) return false;
    std::string out;
    if (!st.opened) {
      st.opened = true;
      out = "retry: 2000\n\n" + protocol::sse_message("hello", dump(json{{"seq", st.cursor}, {"epoch", eng.epoch()}, {"stream", eng.stream()}}));
    }
    auto b = st.resync ? event_page{event_page::status::resync, {}} : eng.events_after(st.cursor, cfg.stream_heartbeat);
    if (stopping.load()) return false;
    switch (b.st) {
      case event_page::status::closed: return false;
      case event_page::status::resync:
        // The page reloads its view (GET /api/snapshot) and opens a new stream from there.
        out += protocol::sse_message("resync", dump(json{{"seq", eng.seq()}, {"epoch", eng.epoch()}, {"stream", eng.stream()}}));
        if (!sink.write(out.data(), out.size())) return false;
        sink.done();
        return true;
      case event_page::status::timeout:
        out += protocol::sse_message("heartbeat", dump(json{{"seq", st.cursor}, {"epoch", eng.epoch()}, {"stream", eng.stream()}}));
        break;
      case event_page::status::events:
        for (const auto& e : b.events) out += protocol::sse_run_event(e, eng.forms(), st.texts);
        st.cursor = b.events.back().seq;
        break;
    }
    return sink.write(out.data(), out.size());
  }

  void routes() {
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      offer_gzip_only(req);
      return guard(req, res);
    });
    server.Get("/api/events", [this](const httplib::Request& req, httplib::Response& res) { serve_events(req, res); });
    server.Get("/api/.*", [this](const httplib::Request& req, httplib::Response& res) { serve_api(req, res); });
    server.Post("/api/.*", [this](const httplib::Request& req, httplib::Response& res) { serve_api(req, res); });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) { serve_metrics(res); });
    server.Get("/[A-Za-z0-9_.-]*", [this](const httplib::Request& req, httplib::Response& res) { serve_asset(req, res); });
    server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      send_error(res, 500, codes::internal, "the request failed inside the server");
    });
    server.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          const char* code = res.status == 404 ? codes::not_found : res.status == 413 ? codes::too_large : codes::invalid_input;
          send_error(res, res.status, code, "cannot " + req.method + " " + req.path + " (HTTP " + std::to_string(res.status) + ")");
          return httplib::Server::HandlerResponse::Handled;
        }));
  }
};

http_gateway::http_gateway(engine& eng, http_config cfg, const service* svc)
    : impl_(std::make_unique<impl>(eng, std::move(cfg), svc)) {}

http_gateway::~http_gateway() { stop(); }

expected<void> http_gateway::start() {
  auto& s = *impl_;
  if (s.started) return {};
  auto where = protocol::parse_listen(s.cfg.listen);
  if (!where) return where.error();
  if (!protocol::is_loopback_host(where->host) && s.cfg.token.empty())
    return make_error(codes::invalid_input, "refusing to serve HTTP on " + s.cfg.listen +
                                                " without a token: set one (--http-token or COWORKER_HTTP_TOKEN) "
                                                "or listen on a loopback address");
  struct sigaction old {};
  if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) std::signal(SIGPIPE, SIG_IGN);

  s.where = *where;
  const auto threads = std::max<std::size_t>(s.cfg.threads, s.cfg.max_event_streams + 2);
  s.server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.server.set_keep_alive_timeout(2);  // an idle browser connection holds up stop() at most this long
  s.server.set_payload_max_length(s.eng.config().lim.max_request_bytes * 4);
  s.routes();
  int port = s.where.port;
  if (port == 0) {
    port = s.server.bind_to_any_port(s.where.host);
    if (port < 0) port = 0;
  } else if (!s.server.bind_to_port(s.where.host, port)) {
    port = 0;
  }
  if (port <= 0) return make_error(codes::bind_failed, "cannot listen for HTTP on " + s.cfg.listen);
  s.where.port = port;

  s.url = s.cfg.advertise.empty() ? protocol::advertised_http_url(s.where, protocol::host_name()) : s.cfg.advertise;
  (void)s.eng.advertise("http", s.url);  // the engine logs a failure; the page is served all the same
  s.sub = s.eng.subscribe([&s](const event& e) { s.metrics.on_event(e); });
  s.thread = std::thread([&s] {
    name_thread("cw-http");
    s.server.listen_after_bind();
  });
  // stop() before the server loop runs would not be seen by it: wait until it is up.
  for (int i = 0; i < 500 && !s.server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  s.started = true;
  return {};
}

void http_gateway::stop() {
  auto& s = *impl_;
  if (!s.started) return;
  s.started = false;
  s.stopping = true;
  (void)s.eng.advertise("http", "");  // other nodes' pages stop following this web view
  s.sub.reset();
  s.server.stop();  // streams see `stopping` within one heartbeat (cfg.stream_heartbeat)
  s.thread.join();
}

std::string http_gateway::address() const {
  const auto& w = impl_->where;
  return (w.host.find(':') != std::string::npos ? "[" + w.host + "]" : w.host) + ":" + std::to_string(w.port);
}

int http_gateway::port() const { return impl_->where.port; }

std::string http_gateway::url() const { return impl_->url; }

}  // namespace coworker

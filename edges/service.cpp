// The ZeroMQ service: one gateway thread owns both sockets (a ZeroMQ socket belongs to one thread).
// It polls the ROUTER for requests and an eventfd that the engine's event subscription rings when
// events are queued; it publishes events in seq order, answers `run` requests that wait when their
// chain ends, and sends a heartbeat carrying the last published seq. With CURVE, it also answers the
// ZAP handler's socket, which lets in the allowed client keys only (docs/security.md).
#include "coworker/service.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <zmq.hpp>

#include "core/event_text.hpp"
#include "protocol/advertised.hpp"
#include "protocol/request_handler.hpp"
#include "worker_broker.hpp"
#include "zap_handler.hpp"
#include "core/thread_name.hpp"

namespace coworker {

namespace {
/// The gateway thread takes turns between its sockets: at most this many requests, then at most
/// `event_rounds_per_turn` batches of `event_batch` events, then the other sockets again, so
/// neither a flood of requests nor one of events starves the other (docs/engine.md).
constexpr std::size_t requests_per_turn = 64;
constexpr std::size_t event_batch = 1024;
constexpr std::size_t event_rounds_per_turn = 16;
}  // namespace

struct service::impl {
  engine& eng;
  service_config cfg;
  zmq::context_t ctx{1};
  zmq::socket_t router{ctx, zmq::socket_type::router};
  zmq::socket_t pub{ctx, zmq::socket_type::pub};
  std::string requests_ep, events_ep;
  int wake_fd = -1;
  std::atomic<bool> stopping{false};
  bool started = false;
  std::thread thread;
  std::unique_ptr<worker_broker> broker;
  std::unique_ptr<zap_handler> zap;  // with CURVE only
  std::string curve_public;
  std::atomic<bool> beat_now{false};  // the self-check asks for a heartbeat
  std::atomic<std::size_t> n_workers{0}, n_running{0}, n_queued{0};  // copied from the broker each loop

  // Events come from a cursor on the engine's event log: only stored events, in seq order, read
  // on this thread; the log rings wake_fd when there is more after the cursor ran dry.
  event_cursor cursor;

  struct waiter {
    zmq::message_t identity;
    bool delimiter = false;
    json id;
  };
  std::unordered_multimap<std::string, waiter> waiting;  // run id → clients waiting for its end

  // Durable `run` replies held until the chain is stored: released when the cursor reaches the
  // run's first event (the gateway goes on serving meanwhile; one commit covers many chains).
  struct held_reply {
    zmq::message_t identity;
    bool delimiter = false;
    json reply;
    bool on_end = false;  ///< released by the run's after:run (a delivered signal), not its first event
  };
  std::unordered_multimap<std::string, held_reply> held;  // run id → acknowledgements
  std::uint64_t last_seq = 0;
  std::string last_epoch;
  value_text_cache texts;

  impl(engine& e, service_config c) : eng(e), cfg(std::move(c)), texts(e.forms()) {}

  void ring() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }

  void send_reply(const zmq::message_t& identity, bool delimiter, const json& reply) {
    send_text(identity, delimiter, dump(reply));
  }
  void send_text(const zmq::message_t& identity, bool delimiter, const std::string& text) {
    zmq::message_t id(identity.data(), identity.size());
    try {
      router.send(id, zmq::send_flags::sndmore);
      if (delimiter) router.send(zmq::message_t(), zmq::send_flags::sndmore);
      router.send(zmq::buffer(text), zmq::send_flags::none);
    } catch (const zmq::error_t&) {
      // The client is gone (ROUTER_MANDATORY): nothing to deliver to.
    }
  }

  /// One request; the last-resort guard: whatever a frame does, the service logs, answers
  /// `internal` and keeps serving.
  void on_request() {
    std::vector<zmq::message_t> parts;
    try {
      serve_request(parts);
    } catch (const std::exception& e) {
      if (eng.config().log_sink) eng.config().log_sink("error", std::string("request failed: ") + e.what());
      if (!parts.empty())
        send_reply(parts[0], parts.size() > 2 && parts[1].size() == 0,
                   protocol::error_reply(make_error(codes::internal, "the request failed inside the service")));
    }
  }

  void serve_request(std::vector<zmq::message_t>& parts) {
    while (true) {
      zmq::message_t m;
      if (!router.recv(m, zmq::recv_flags::dontwait)) break;
      bool more = m.more();
      parts.push_back(std::move(m));
      if (!more) break;
    }
    if (parts.empty()) return;
    // [identity] [empty delimiter, from REQ or a polite DEALER] [payload]
    std::size_t first = 1;
    bool delimiter = parts.size() > 1 && parts[1].size() == 0 && parts.size() > 2;
    if (delimiter) first = 2;
    const auto& identity = parts[0];
    if (parts.size() - first != 1) {
      send_reply(identity, delimiter,
                 protocol::error_reply(make_error(codes::bad_json, parts.size() == first
                                                                      ? "empty request: send one JSON frame"
                                                                      : "a request is exactly one frame of JSON")));
      return;
    }
    const auto& payload = parts[first];
    auto out = protocol::handle_request(eng, std::string_view(static_cast<const char*>(payload.data()), payload.size()),
                                        /*hold=*/true);
    if (!out.ack_run_id.empty() &&
        (out.ack_on_end ? !eng.wait(out.ack_run_id, std::chrono::milliseconds(0)) : !eng.durable(out.ack_run_id))) {
      // Its first event (or its end) is past the cursor (the cursor never passes what is not durable).
      held.emplace(out.ack_run_id, held_reply{zmq::message_t(identity.data(), identity.size()), delimiter,
                                              std::move(out.reply), out.ack_on_end});
      return;
    }
    if (!out.reply_text.empty()) {
      send_text(identity, delimiter, out.reply_text);
      return;
    }
    if (out.wait_run_id.empty()) {
      send_reply(identity, delimiter, out.reply);
      return;
    }
    auto rec = eng.get(out.wait_run_id);
    if (rec && is_final(rec->status)) {
      send_text(identity, delimiter, protocol::run_reply_text(eng, out.wait_run_id, out.id, texts));
      return;
    }
    waiting.emplace(out.wait_run_id, waiter{zmq::message_t(identity.data(), identity.size()), delimiter, out.id});
  }

  void publish(const event& e) {
    auto topic = topic_of(e);
    auto body = envelope_text(e, eng.forms(), texts);
    pub.send(zmq::buffer(topic), zmq::send_flags::sndmore);
    pub.send(zmq::buffer(body), zmq::send_flags::none);
    last_seq = e.seq;
    last_epoch = e.epoch;
    if (!held.empty()) {
      auto acks = held.equal_range(e.run->id);
      for (auto it = acks.first; it != acks.second;) {
        if (it->second.on_end && e.kind != event_kind::after_run) {
          ++it;
          continue;
        }
        send_reply(it->second.identity, it->second.delimiter, it->second.reply);
        it = held.erase(it);
      }
    }
    if (e.kind == event_kind::after_run && e.run->owner_run_id.empty()) {
      auto range = waiting.equal_range(e.run->id);
      for (auto it = range.first; it != range.second; ++it)
        send_text(it->second.identity, it->second.delimiter, protocol::run_reply_text(eng, e.run->id, it->second.id, texts));
      waiting.erase(range.first, range.second);
    }
  }

  void drain_events() {
    std::uint64_t n;
    [[maybe_unused]] auto r = ::read(wake_fd, &n, sizeof n);
    // Bounded, so requests are served between batches of a flood of events.
    for (std::size_t round = 0; round < event_rounds_per_turn; ++round) {
      const auto& batch = cursor.next(event_batch);
      if (batch.empty()) return;  // the cursor is armed: the log rings when there is more
      for (const auto* e : batch) publish(*e);
    }
    ring();  // more is waiting: come back after the other sockets had their turn
  }

  void heartbeat() {
    json hb{{"event", "heartbeat"}, {"seq", last_seq}, {"epoch", last_epoch.empty() ? eng.epoch() : last_epoch},
            {"stream", eng.stream()}, {"time", now_ms()}};
    auto body = dump(hb);
    pub.send(zmq::buffer(std::string_view("heartbeat")), zmq::send_flags::sndmore);
    pub.send(zmq::buffer(body), zmq::send_flags::none);
  }

  void turn(std::vector<zmq::pollitem_t>& items, std::size_t at_zap, std::size_t at_broker,
            std::chrono::steady_clock::time_point& next_beat) {
    auto now = std::chrono::steady_clock::now();
    if (now >= next_beat || beat_now.exchange(false)) {
      heartbeat();
      next_beat = now + cfg.heartbeat;
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_beat - now);
    zmq::poll(items, std::min(wait, std::chrono::milliseconds(100)));
    // Clients wait on their handshake for these answers: before any other work.
    if (zap && (items[at_zap].revents & ZMQ_POLLIN)) zap->on_request();
    if (items[1].revents & ZMQ_POLLIN) drain_events();
    if (broker) {
      if (items[at_broker].revents & ZMQ_POLLIN) broker->on_message();
      broker->tick();
      n_workers.store(broker->worker_count(), std::memory_order_relaxed);
      n_running.store(broker->tasks_running(), std::memory_order_relaxed);
      n_queued.store(broker->tasks_queued(), std::memory_order_relaxed);
    }
    if (items[0].revents & ZMQ_POLLIN) {
      // Serve a bounded number of requests, then look at events again.
      for (std::size_t i = 0; i < requests_per_turn; ++i) {
        on_request();
        if (!(router.get(zmq::sockopt::events) & ZMQ_POLLIN)) break;
      }
    }
  }

  void loop() {
    std::vector<zmq::pollitem_t> items{{router.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, wake_fd, ZMQ_POLLIN, 0}};
    const std::size_t at_broker = items.size();
    if (broker) items.push_back({broker->socket().handle(), 0, ZMQ_POLLIN, 0});
    const std::size_t at_zap = items.size();
    if (zap) items.push_back({zap->socket().handle(), 0, ZMQ_POLLIN, 0});
    auto next_beat = std::chrono::steady_clock::now();
    while (!stopping.load()) {
      // The last-resort guard of the gateway thread: a fault in one turn is logged and the next
      // turn comes (requests and worker messages have their own guards, which also answer).
      try {
        turn(items, at_zap, at_broker, next_beat);
      } catch (const std::exception& e) {
        if (eng.config().log_sink) eng.config().log_sink("error", std::string("gateway turn failed: ") + e.what());
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a fault that repeats does not spin
      }
    }
    // A shutdown's last events (cancellations) still go out: everything stored by now.
    for (;;) {
      const auto& batch = cursor.next(event_batch);
      if (batch.empty()) break;
      for (const auto* e : batch) publish(*e);
    }
    heartbeat();
    if (broker) broker->close();
  }
};

service::service(engine& eng, service_config cfg) : impl_(std::make_unique<impl>(eng, std::move(cfg))) {}

service::~service() { stop(); }

expected<void> service::start() {
  auto& s = *impl_;
  if (s.started) return {};
  const auto& curve = s.cfg.curve;
  if (curve.enabled()) {
    if (!curve_available()) return make_error(codes::no_curve, "CURVE was asked for but this libzmq has no CURVE");
    auto pub = coworker::curve_public_key(curve.server_secret_key);
    if (!pub) return make_error(codes::invalid_input, "the server's CURVE secret key: " + pub.error().message);
    s.curve_public = *pub;
    if (curve.allowed_client_keys.empty())
      return make_error(codes::invalid_input, "CURVE needs at least one allowed client key");
    for (const auto& k : curve.allowed_client_keys)
      if (!is_curve_key(k)) return make_error(codes::invalid_input, "allowed client key '" + k + "' is not a CURVE key");
    // The handler must be there before the first client's handshake: CURVE alone lets every key in.
    s.zap = std::make_unique<zap_handler>(s.ctx, curve.allowed_client_keys, s.eng.config().log_sink);
    if (auto r = s.zap->bind(); !r) return r;
  }
  auto secure = [&](zmq::socket_t& sock, const char* domain) {
    if (curve.enabled()) make_curve_server(sock, curve.server_secret_key, domain);
  };
  try {
    secure(s.router, zap_domain_requests);
    s.router.set(zmq::sockopt::linger, 0);
    s.router.set(zmq::sockopt::router_mandatory, 1);
    s.router.set(zmq::sockopt::rcvhwm, 100000);
    s.router.set(zmq::sockopt::sndhwm, 100000);
    // Refuse oversized frames above the request limit outright; frames up to it get a reply.
    s.router.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(s.eng.config().lim.max_request_bytes * 4));
    s.router.bind(s.cfg.requests);
    s.requests_ep = s.router.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return make_error(codes::bind_failed, "cannot listen for requests on " + s.cfg.requests + ": " + e.what());
  }
  try {
    secure(s.pub, zap_domain_events);
    s.pub.set(zmq::sockopt::linger, 0);
    s.pub.set(zmq::sockopt::sndhwm, s.cfg.events_hwm);
    s.pub.bind(s.cfg.events);
    s.events_ep = s.pub.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return make_error(codes::bind_failed, "cannot publish events on " + s.cfg.events + ": " + e.what());
  }
  s.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s.wake_fd < 0) return make_error(codes::internal, "eventfd failed");
  if (!s.cfg.workers.empty()) {
    s.broker = std::make_unique<worker_broker>(
        s.eng, s.ctx, [&s] { s.ring(); }, s.cfg.worker_heartbeat,
        std::set<std::string>(s.cfg.routed_to_workers.begin(), s.cfg.routed_to_workers.end()));
    secure(s.broker->socket(), zap_domain_workers);
    if (auto r = s.broker->bind(s.cfg.workers); !r) return r;
  }
  s.cursor = s.eng.open_cursor([&s] { s.ring(); });
  s.last_seq = s.cursor.position();  // heartbeats carry the last published seq from the start
  s.started = true;
  s.thread = std::thread([&s] {
    name_thread("cw-zmq-gateway");
    s.loop();
  });
  if (curve.enabled()) {
    std::vector<probe_target> targets{{"requests", s.requests_ep, false, zap_domain_requests},
                                      {"events", s.events_ep, true, zap_domain_events}};
    if (s.broker) targets.push_back({"workers", s.broker->endpoint(), false, zap_domain_workers});
    auto checked = check_refused(targets, s.curve_public, s.zap.get(), [&s] {
      s.beat_now = true;
      s.ring();
    });
    if (!checked) {
      stop();
      return checked;
    }
  }
  // In a cluster the other nodes, their pages and clients find these (docs/cluster.md, "Finding
  // the nodes"); the engine logs a failure to write them, which does not stop the service.
  const auto host = protocol::host_name();
  (void)s.eng.advertise("requests", protocol::advertised_endpoint(s.requests_ep, host));
  (void)s.eng.advertise("events", protocol::advertised_endpoint(s.events_ep, host));
  if (s.broker) (void)s.eng.advertise("workers", protocol::advertised_endpoint(s.broker->endpoint(), host));
  return {};
}

void service::stop() {
  auto& s = *impl_;
  if (!s.started) return;
  s.started = false;
  s.stopping = true;
  for (const char* kind : {"requests", "events", "workers"}) (void)s.eng.advertise(kind, "");
  s.ring();
  s.thread.join();  // its last drain publishes every event stored so far
  s.cursor = event_cursor();
  s.router.close();
  s.pub.close();
  s.broker.reset();
  if (s.zap) s.zap->close();
  ::close(s.wake_fd);
  s.ctx.close();
}

std::string service::requests_endpoint() const { return impl_->requests_ep; }
std::string service::events_endpoint() const { return impl_->events_ep; }
worker_stats service::workers() const {
  return {impl_->n_workers.load(std::memory_order_relaxed), impl_->n_running.load(std::memory_order_relaxed),
          impl_->n_queued.load(std::memory_order_relaxed)};
}

std::string service::workers_endpoint() const { return impl_->broker ? impl_->broker->endpoint() : std::string(); }
std::string service::curve_public_key() const { return impl_->curve_public; }
std::uint64_t service::refused_clients() const { return impl_->zap ? impl_->zap->refused_count() : 0; }

}  // namespace coworker

// CURVE with an allow-list over real sockets on loopback (ports chosen free at run time): an allowed
// key is served on requests, events and workers; a plain client and a key that is not allowed get
// nothing at all; the start-up self-check refuses servers where such clients would get through.
#include <atomic>
#include <mutex>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <zmq.hpp>

#include "coworker/coworker.hpp"
#include "coworker/security.hpp"
#include "coworker/service.hpp"
#include "zap_handler.hpp"

using namespace coworker;

namespace {

curve_keypair new_keys() {
  auto k = make_curve_keypair();
  BOOST_REQUIRE(k.has_value());
  return *k;
}

struct log_lines {
  std::mutex mu;
  std::vector<std::string> lines;
  bool contains(const std::string& part) {
    std::lock_guard lock(mu);
    for (const auto& l : lines)
      if (l.find(part) != std::string::npos) return true;
    return false;
  }
};

struct secured_daemon {
  curve_keypair server = new_keys(), alice = new_keys(), bob = new_keys();
  std::shared_ptr<log_lines> log = std::make_shared<log_lines>();
  engine eng;
  service svc;
  expected<void> started;

  static engine_config quiet(const std::shared_ptr<log_lines>& log) {
    engine_config c;
    c.log_sink = [log](std::string_view, std::string_view text) {
      std::lock_guard lock(log->mu);
      log->lines.emplace_back(text);
    };
    return c;
  }
  service_config secured() const {
    service_config sc;
    sc.requests = sc.events = sc.workers = "tcp://127.0.0.1:*";
    sc.heartbeat = std::chrono::milliseconds(100);
    sc.curve.server_secret_key = server.secret_key;
    sc.curve.allowed_client_keys = {alice.public_key, bob.public_key};
    return sc;
  }
  secured_daemon() : eng(quiet(log)), svc(eng, secured()), started(svc.start()) {
    BOOST_REQUIRE_MESSAGE(started.has_value(), (started ? "" : started.error().message));
  }
};

/// Some sockets of one kind, plain or with a client key.
struct peer {
  zmq::context_t ctx;
  zmq::socket_t sock;
  peer(zmq::socket_type type, const std::string& ep, const std::string& server_key = {},
       const curve_keypair* keys = nullptr)
      : sock(ctx, type) {
    sock.set(zmq::sockopt::linger, 0);
    // A DEALER whose handshake was refused has no peer, and a send would wait for one for ever:
    // what a refused peer sends may as well be dropped (its receive is what the tests check).
    sock.set(zmq::sockopt::sndtimeo, 2000);
    if (keys) make_curve_client(sock, server_key, keys->public_key, keys->secret_key);
    if (type == zmq::socket_type::sub) sock.set(zmq::sockopt::subscribe, "");
    sock.connect(ep);
  }
  void send(const json& msg) {
    if (!sock.send(zmq::message_t(), zmq::send_flags::sndmore)) return;
    (void)sock.send(zmq::buffer(dump(msg)), zmq::send_flags::none);
  }
  /// The last frame of the next message as JSON, or null when nothing comes within the time.
  json receive(int timeout_ms) {
    zmq::pollitem_t item{sock.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) == 0) return nullptr;
    zmq::message_t m;
    do {
      (void)sock.recv(m);
    } while (m.more());
    return json::parse(m.to_string_view());
  }
  /// The next run event (heartbeats skipped), or null.
  json next_event(int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      auto e = receive(50);
      if (!e.is_null() && e["event"] != "heartbeat") return e;
    }
    return nullptr;
  }
};

const json hello_chain = json::parse(R"({"operation":"run","children":[{"id":"a","operation":"log","input":{"x":1}}]})");

/// Runs a chain as alice and waits for its end, so that events are flowing while a peer listens.
void run_a_chain(secured_daemon& d) {
  peer alice(zmq::socket_type::dealer, d.svc.requests_endpoint(), d.svc.curve_public_key(), &d.alice);
  alice.send(json{{"type", "run"}, {"chain", hello_chain}, {"wait", true}});
  auto r = alice.receive(10000);
  BOOST_REQUIRE(!r.is_null());
  BOOST_REQUIRE(r["status"] == "completed");
}

/// A server that answers every ping on a ROUTER (or publishes on a PUB) in a thread of its own:
/// what the self-check must refuse.
struct open_server {
  zmq::context_t ctx;
  zmq::socket_t sock;
  std::string endpoint;
  std::atomic<bool> stop{false};
  std::thread thread;
  open_server(zmq::socket_type type, const std::string& curve_secret = {}) : sock(ctx, type) {
    sock.set(zmq::sockopt::linger, 0);
    if (!curve_secret.empty()) {  // CURVE without a ZAP handler: every key gets in
      sock.set(zmq::sockopt::curve_server, 1);
      sock.set(zmq::sockopt::curve_secretkey, curve_secret);
    }
    sock.bind("tcp://127.0.0.1:*");
    endpoint = sock.get(zmq::sockopt::last_endpoint);
    thread = std::thread([this, type] {
      while (!stop) {
        if (type == zmq::socket_type::pub) {
          sock.send(zmq::str_buffer("heartbeat"), zmq::send_flags::sndmore);
          sock.send(zmq::str_buffer(R"({"event":"heartbeat"})"), zmq::send_flags::none);
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          continue;
        }
        zmq::pollitem_t item{sock.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, std::chrono::milliseconds(10)) == 0) continue;
        std::vector<zmq::message_t> parts;
        zmq::message_t m;
        do {
          (void)sock.recv(m);
          parts.emplace_back(m.data(), m.size());
        } while (m.more());
        for (std::size_t i = 0; i + 1 < parts.size(); ++i) sock.send(parts[i], zmq::send_flags::sndmore);
        sock.send(zmq::str_buffer(R"({"ok":true,"pong":true})"), zmq::send_flags::none);
      }
    });
  }
  ~open_server() {
    stop = true;
    thread.join();
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(curve_keys)

BOOST_AUTO_TEST_CASE(key_lists_take_comments_blank_lines_and_labels) {
  auto a = new_keys(), b = new_keys();
  auto keys = parse_curve_keys("# the team\n\n" + a.public_key + "  alice's laptop\n   # gone: bob\n" + b.public_key + "\n");
  BOOST_REQUIRE(keys.has_value());
  BOOST_TEST((*keys == std::vector<std::string>{a.public_key, b.public_key}));
}

BOOST_AUTO_TEST_CASE(a_line_that_is_no_key_names_its_number) {
  auto keys = parse_curve_keys("# ok\n" + new_keys().public_key + "\nnot-a-key\n");
  BOOST_REQUIRE(!keys.has_value());
  BOOST_TEST(keys.error().code == "invalid_input");
  BOOST_TEST(keys.error().message.find("line 3") != std::string::npos);
  // 40 characters, but outside Z85 or beyond 32 bits per group.
  BOOST_TEST(!is_curve_key(std::string(40, '~')));
  BOOST_TEST(!is_curve_key(std::string(40, '#')));
  BOOST_TEST(!is_curve_key(new_keys().public_key.substr(1)));
}

BOOST_AUTO_TEST_CASE(a_public_key_is_derived_from_the_secret) {
  auto k = new_keys();
  auto pub = curve_public_key(k.secret_key);
  BOOST_REQUIRE(pub.has_value());
  BOOST_TEST(*pub == k.public_key);
  BOOST_TEST(!curve_public_key("short").has_value());
  BOOST_TEST(read_curve_key(k.public_key).value() == k.public_key);  // a key given as itself
  BOOST_TEST(!read_curve_key("/nonexistent/key.pub").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(service_curve)

BOOST_AUTO_TEST_CASE(an_allowed_key_gets_replies_and_events) {
  secured_daemon d;
  BOOST_TEST(d.svc.curve_public_key() == d.server.public_key);
  peer sub(zmq::socket_type::sub, d.svc.events_endpoint(), d.server.public_key, &d.bob);
  peer alice(zmq::socket_type::dealer, d.svc.requests_endpoint(), d.server.public_key, &d.alice);
  alice.send(json{{"type", "ping"}});
  auto pong = alice.receive(10000);
  BOOST_REQUIRE(!pong.is_null());
  BOOST_TEST(pong["pong"] == true);
  // A heartbeat proves the subscription is in place before the chain starts (no slow joiner).
  BOOST_REQUIRE(!sub.receive(10000).is_null());
  run_a_chain(d);
  auto e = sub.next_event(10000);
  BOOST_REQUIRE(!e.is_null());
  BOOST_TEST(e["event"] == "before:run");
  BOOST_TEST(d.svc.refused_clients() == 0u);
}

BOOST_AUTO_TEST_CASE(a_plain_client_gets_nothing_on_requests_or_events) {
  secured_daemon d;
  peer sub(zmq::socket_type::sub, d.svc.events_endpoint());
  peer plain(zmq::socket_type::dealer, d.svc.requests_endpoint());
  plain.send(json{{"type", "ping"}});
  run_a_chain(d);
  // Heartbeats go out every 100 ms: a subscriber let in would have some by now.
  BOOST_TEST(plain.receive(500).is_null());
  BOOST_TEST(sub.receive(300).is_null());
}

BOOST_AUTO_TEST_CASE(a_key_not_allowed_gets_nothing_and_is_logged) {
  secured_daemon d;
  auto mallory = new_keys();
  peer sub(zmq::socket_type::sub, d.svc.events_endpoint(), d.server.public_key, &mallory);
  peer req(zmq::socket_type::dealer, d.svc.requests_endpoint(), d.server.public_key, &mallory);
  req.send(json{{"type", "ping"}});
  run_a_chain(d);
  BOOST_TEST(req.receive(500).is_null());
  BOOST_TEST(sub.receive(300).is_null());
  BOOST_TEST(d.svc.refused_clients() >= 2u);  // one per socket, then again on each reconnection
  BOOST_TEST(d.log->contains("on coworker.requests (key " + mallory.public_key.substr(0, 8)));
  BOOST_TEST(d.log->contains("on coworker.events (key " + mallory.public_key.substr(0, 8)));
  // A client that knows the wrong server key does not get in either.
  auto impostor = new_keys();
  peer wrong_server(zmq::socket_type::dealer, d.svc.requests_endpoint(), impostor.public_key, &d.alice);
  wrong_server.send(json{{"type", "ping"}});
  BOOST_TEST(wrong_server.receive(300).is_null());
}

BOOST_AUTO_TEST_CASE(workers_need_an_allowed_key_too) {
  secured_daemon d;
  const json hello{{"type", "hello"}, {"operations", json::array({"classify"})}, {"capacity", 1}};
  auto mallory = new_keys();
  peer intruder(zmq::socket_type::dealer, d.svc.workers_endpoint(), d.server.public_key, &mallory);
  peer plain(zmq::socket_type::dealer, d.svc.workers_endpoint());
  intruder.send(hello);
  plain.send(hello);
  peer worker(zmq::socket_type::dealer, d.svc.workers_endpoint(), d.server.public_key, &d.alice);
  worker.send(hello);
  auto welcome = worker.receive(10000);
  BOOST_REQUIRE(!welcome.is_null());
  BOOST_TEST(welcome["type"] == "welcome");
  BOOST_TEST(intruder.receive(300).is_null());
  BOOST_TEST(plain.receive(100).is_null());
}

BOOST_AUTO_TEST_CASE(bad_keys_stop_the_start) {
  engine eng(secured_daemon::quiet(std::make_shared<log_lines>()));
  auto server = new_keys(), alice = new_keys();
  auto start_with = [&](curve_config c) {
    service_config sc;
    sc.requests = sc.events = "tcp://127.0.0.1:*";
    sc.curve = std::move(c);
    service s(eng, sc);
    auto r = s.start();
    return r ? std::string("started") : r.error().message;
  };
  BOOST_TEST(start_with({"not a key", {alice.public_key}}).find("secret key") != std::string::npos);
  BOOST_TEST(start_with({server.secret_key, {}}).find("at least one allowed client key") != std::string::npos);
  BOOST_TEST(start_with({server.secret_key, {alice.public_key, "x"}}).find("'x' is not a CURVE key") != std::string::npos);
  BOOST_TEST(start_with({server.secret_key, {alice.public_key}}) == "started");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(curve_self_check)

BOOST_AUTO_TEST_CASE(a_plain_server_fails_the_check) {
  open_server s(zmq::socket_type::router);
  auto r = check_refused({{"requests", s.endpoint, false, ""}}, new_keys().public_key, nullptr, {});
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == "insecure");
  BOOST_TEST(r.error().message.find("a client with no key (plain) got an answer") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(curve_without_a_zap_handler_fails_the_check) {
  auto server = new_keys();
  open_server s(zmq::socket_type::router, server.secret_key);
  auto r = check_refused({{"requests", s.endpoint, false, ""}}, server.public_key, nullptr, {});
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message.find("a key that is not allowed got an answer") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_plain_publisher_fails_the_check) {
  open_server s(zmq::socket_type::pub);
  auto r = check_refused({{"events", s.endpoint, true, ""}}, new_keys().public_key, nullptr, {});
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message.find("on the events endpoint") != std::string::npos);
  BOOST_TEST(r.error().message.find("received events") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_zap_handler_that_is_never_asked_fails_the_check) {
  // A server that answers nobody, and a handler that is not the server's: silence alone is no proof.
  zmq::context_t ctx;
  zmq::socket_t silent(ctx, zmq::socket_type::router);
  silent.set(zmq::sockopt::linger, 0);
  silent.bind("tcp://127.0.0.1:*");
  zmq::context_t other;
  zap_handler zap(other, {new_keys().public_key}, {});
  BOOST_REQUIRE(zap.bind().has_value());
  auto r = check_refused({{"requests", silent.get(zmq::sockopt::last_endpoint), false, zap_domain_requests}},
                         new_keys().public_key, &zap, {}, std::chrono::milliseconds(100),
                         std::chrono::milliseconds(300));
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message.find("the ZAP handler was not asked") != std::string::npos);
  BOOST_TEST(r.error().message.find("requests") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

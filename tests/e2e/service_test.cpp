// The ZeroMQ service over real sockets on loopback (ports chosen free at run time): requests,
// bad frames, idempotency, busy, and subscribers that see every event in order or resync.
#include <map>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <zmq.hpp>

#include "coworker/coworker.hpp"
#include "coworker/service.hpp"

using namespace coworker;

namespace {

engine_config quiet(std::size_t max_runs = 10000) {
  engine_config c;
  c.lim.max_concurrent_runs = max_runs;
  c.log_sink = [](std::string_view, std::string_view) {};
  return c;
}

service_config loopback() {
  service_config sc;
  sc.requests = sc.events = sc.workers = "tcp://127.0.0.1:*";  // free ports
  sc.heartbeat = std::chrono::milliseconds(200);
  sc.worker_heartbeat = std::chrono::milliseconds(200);
  return sc;
}

struct test_daemon {
  engine eng;
  service svc;
  explicit test_daemon(engine_config c = quiet()) : eng(std::move(c)), svc(eng, loopback()) {
    BOOST_REQUIRE(svc.start());
  }
};

struct client {
  zmq::context_t ctx;
  zmq::socket_t sock{ctx, zmq::socket_type::dealer};
  explicit client(const std::string& ep) {
    sock.set(zmq::sockopt::linger, 0);
    sock.connect(ep);
  }
  void send_frames(const std::vector<std::string>& frames) {
    for (std::size_t i = 0; i < frames.size(); ++i)
      sock.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  json receive(int timeout_ms = 10000) {
    zmq::pollitem_t item{sock.handle(), 0, ZMQ_POLLIN, 0};
    BOOST_REQUIRE_MESSAGE(zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) == 1, "no reply");
    std::vector<zmq::message_t> parts;
    while (true) {
      zmq::message_t m;
      (void)sock.recv(m);
      bool more = m.more();
      parts.push_back(std::move(m));
      if (!more) break;
    }
    return json::parse(parts.back().to_string_view());
  }
  json call(const json& req) {
    send_frames({"", dump(req)});
    return receive();
  }
};

struct subscriber {
  zmq::context_t ctx;
  zmq::socket_t sock{ctx, zmq::socket_type::sub};
  explicit subscriber(const std::string& ep) {
    sock.set(zmq::sockopt::linger, 0);
    sock.set(zmq::sockopt::rcvhwm, 0);
    sock.set(zmq::sockopt::subscribe, "");
    sock.connect(ep);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the slow joiner
  }
  /// The next run event (heartbeats skipped), or null after the timeout.
  json next(int timeout_ms = 10000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      zmq::pollitem_t item{sock.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) == 0) continue;
      zmq::message_t topic, body;
      (void)sock.recv(topic);
      (void)sock.recv(body);
      auto env = json::parse(body.to_string_view());
      if (env["event"] == "heartbeat") continue;
      BOOST_REQUIRE(topic.to_string().rfind(env["event"].get<std::string>() + " " + env["run"]["chainId"].get<std::string>(), 0) == 0);
      return env;
    }
    return nullptr;
  }
};

json small_chain(int n) {
  return json{{"operation", "run"},
              {"input", {{"n", n}}},
              {"children", json::array({json{{"id", "a"}, {"operation", "log"}},
                                        json{{"id", "b"}, {"operation", "message"}, {"input", {{"text", "n={{a.output.n}}"}}}}})}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(service_requests)

BOOST_AUTO_TEST_CASE(every_request_type_answers) {
  test_daemon d;
  client c(d.svc.requests_endpoint());
  auto pong = c.call(json{{"type", "ping"}, {"id", 7}});
  BOOST_TEST(pong["ok"] == true);
  BOOST_TEST(pong["id"] == 7);
  BOOST_TEST(pong["epoch"] == d.eng.epoch());

  auto waited = c.call(json{{"type", "run"}, {"chain", small_chain(5)}, {"wait", true}});
  BOOST_TEST(waited["ok"] == true);
  BOOST_TEST(waited["status"] == "completed");
  BOOST_TEST(waited["tree"]["children"][1]["output"]["text"] == "n=5");

  auto started = c.call(json{{"type", "run"}, {"chain", json::parse(R"({"operation":"run","children":[
      {"operation":"wait","input":{"ms":10000}}]})")}});
  BOOST_TEST(started["status"] == "running");
  std::string id = started["runId"];
  auto got = c.call(json{{"type", "get"}, {"runId", id}, {"tree", true}});
  BOOST_TEST(got["run"]["id"] == id);
  BOOST_TEST(got["run"]["children"].is_array());
  auto listed = c.call(json{{"type", "list"}, {"status", "running"}});
  BOOST_REQUIRE_EQUAL(listed["runs"].size(), 1u);
  BOOST_TEST(listed["runs"][0]["id"] == id);
  BOOST_TEST(c.call(json{{"type", "cancel"}, {"runId", id}})["ok"] == true);
  auto r = d.eng.wait(id, std::chrono::seconds(5));
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(to_string(r->status) == "cancelled");

  auto ops = c.call(json{{"type", "operations"}});
  std::vector<std::string> names;
  for (const auto& o : ops["operations"]) names.push_back(o["name"]);
  BOOST_TEST((std::find(names.begin(), names.end(), "wait") != names.end()));
  auto snap = c.call(json{{"type", "snapshot"}});
  BOOST_TEST(snap["seq"] == d.eng.seq());
  BOOST_TEST(c.call(json{{"type", "get"}, {"runId", "run-missing"}})["error"]["code"] == "not_found");
}

BOOST_AUTO_TEST_CASE(bad_frames_get_errors_and_the_service_keeps_serving) {
  test_daemon d;
  client bad(d.svc.requests_endpoint());
  client good(d.svc.requests_endpoint());
  auto code_of = [&](const std::vector<std::string>& frames) {
    bad.send_frames(frames);
    return bad.receive()["error"]["code"].get<std::string>();
  };
  BOOST_TEST(code_of({"", "not json"}) == "bad_json");
  BOOST_TEST(code_of({"", std::string("{\"type\":\"ping\",\"x\":\"\xff\xfe\"}")}) == "bad_json");
  // Past the limit, not silence: a too_large reply (limits.requestBytes, 65 MiB by default).
  BOOST_TEST(code_of({"", std::string(d.eng.config().lim.max_request_bytes + 1, ' ')}) == "too_large");
  BOOST_TEST(code_of({"", std::string(10000, '[') + std::string(10000, ']')}) == "too_deep");
  BOOST_TEST(code_of({"", R"({"type":"launch"})"}) == "unknown_type");
  BOOST_TEST(code_of({""}) == "bad_json");                       // an empty frame
  BOOST_TEST(code_of({"", "{}", "{}"}) == "bad_json");            // several frames
  BOOST_TEST(code_of({"", R"({"type":"run"})"}) == "invalid_chain");
  auto invalid = bad.call(json{{"type", "run"}, {"chain", json::parse(R"({"operation":"run","children":[
      {"id":"x","operation":"log","if":"{{nowhere.output}}"}]})")}});
  BOOST_TEST(invalid["error"]["code"] == "unknown_reference");
  BOOST_TEST(invalid["error"]["path"] == "/chain/children/0/if");
  // Without the empty delimiter (a bare DEALER) works too.
  bad.send_frames({R"({"type":"ping"})"});
  BOOST_TEST(bad.receive()["ok"] == true);
  BOOST_TEST(good.call(json{{"type", "run"}, {"chain", small_chain(1)}, {"wait", true}})["status"] == "completed");
}

BOOST_AUTO_TEST_CASE(idempotent_resubmission_returns_the_same_run) {
  test_daemon d;
  client c(d.svc.requests_endpoint());
  auto req = json{{"type", "run"}, {"chain", small_chain(1)}, {"key", "order-7"}};
  auto a = c.call(req);
  auto b = c.call(req);
  BOOST_TEST(a["runId"] == b["runId"]);
  BOOST_TEST(d.eng.list(list_query{std::nullopt, "", true, 100}).size() == 1u);
}

BOOST_AUTO_TEST_CASE(busy_past_the_concurrent_limit) {
  test_daemon d(quiet(5));
  client c(d.svc.requests_endpoint());
  auto slow = json::parse(R"({"operation":"run","children":[{"operation":"wait","input":{"ms":10000}}]})");
  int busy = 0, ok = 0;
  for (int i = 0; i < 8; ++i) {
    auto r = c.call(json{{"type", "run"}, {"chain", slow}});
    if (r["ok"] == true) ++ok;
    if (!r["ok"].get<bool>() && r["error"]["code"] == "busy") ++busy;
  }
  BOOST_TEST(ok == 5);
  BOOST_TEST(busy == 3);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(service_events)

BOOST_AUTO_TEST_CASE(a_subscriber_sees_every_event_of_1000_chains_in_order) {
  test_daemon d;
  subscriber s(d.svc.events_endpoint());
  client c(d.svc.requests_endpoint());
  auto first_seq = d.eng.seq() + 1;
  for (int i = 0; i < 1000; ++i) BOOST_REQUIRE(c.call(json{{"type", "run"}, {"chain", small_chain(i)}})["ok"] == true);
  std::uint64_t expected = first_seq;
  std::map<std::string, int> per_chain;
  for (int i = 0; i < 1000 * 6; ++i) {
    auto e = s.next();
    BOOST_REQUIRE(!e.is_null());
    BOOST_REQUIRE_EQUAL(e["seq"].get<std::uint64_t>(), expected);
    ++expected;
    ++per_chain[e["run"]["chainId"]];
  }
  BOOST_TEST(per_chain.size() == 1000u);
  for (const auto& [chain, n] : per_chain) BOOST_TEST(n == 6);
}

BOOST_AUTO_TEST_CASE(a_late_subscriber_resyncs_by_snapshot_to_the_same_view) {
  test_daemon d;
  client c(d.svc.requests_endpoint());
  subscriber early(d.svc.events_endpoint());
  std::map<std::string, std::string> early_view, late_view;
  for (int i = 0; i < 50; ++i) c.call(json{{"type", "run"}, {"chain", small_chain(i)}});
  // The late one joins mid-way: subscribe, then snapshot, then apply events above its seq.
  subscriber late(d.svc.events_endpoint());
  auto snap = c.call(json{{"type", "snapshot"}, {"recent", 1000}});
  std::uint64_t late_seq = snap["seq"];
  for (const auto& r : snap["runs"]) late_view[r["id"]] = r["status"];
  for (int i = 50; i < 100; ++i) c.call(json{{"type", "run"}, {"chain", small_chain(i)}});
  for (int i = 0; i < 100 * 6; ++i) {
    auto e = early.next();
    BOOST_REQUIRE(!e.is_null());
    early_view[e["run"]["id"]] = e["run"]["status"];
  }
  while (true) {
    auto e = late.next(1000);
    if (e.is_null()) break;
    if (e["seq"].get<std::uint64_t>() <= late_seq) continue;
    BOOST_REQUIRE_EQUAL(e["seq"].get<std::uint64_t>(), late_seq + 1);
    late_seq = e["seq"];
    late_view[e["run"]["id"]] = e["run"]["status"];
  }
  BOOST_TEST(late_view.size() == 300u);
  BOOST_TEST((late_view == early_view));
}

BOOST_AUTO_TEST_SUITE_END()

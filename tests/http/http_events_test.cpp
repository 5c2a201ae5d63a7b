// /api/events over real HTTP: Server-Sent Events in seq order, replay after a reconnect
// (Last-Event-ID), and `resync` when the events asked for are gone or from another epoch.
#include <functional>
#include <future>

#include <boost/test/unit_test.hpp>

#include "http_fixture.hpp"

using namespace coworker;
using namespace coworker::test;

namespace {

struct sse_event {
  std::string name;
  std::uint64_t id = 0;
  json data;
};

/// Reads the stream at `path` until `want` run events (or a resync) have come; `opened` is called
/// once the stream's first event (hello) has arrived.
std::vector<sse_event> read_stream(int port, const std::string& path, std::size_t want, httplib::Headers headers = {},
                                   const std::function<void()>& opened = {}) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(20, 0);
  std::vector<sse_event> events;
  std::string buf;
  std::size_t runs = 0;
  auto r = c.Get(path.c_str(), headers, [&](const char* data, std::size_t n) {
    buf.append(data, n);
    for (auto end = buf.find("\n\n"); end != std::string::npos; end = buf.find("\n\n")) {
      auto block = buf.substr(0, end);
      buf.erase(0, end + 2);
      sse_event e;
      std::size_t pos = 0;
      while (pos <= block.size()) {
        auto nl = block.find('\n', pos);
        auto line = block.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        if (line.rfind("event: ", 0) == 0) e.name = line.substr(7);
        if (line.rfind("id: ", 0) == 0) e.id = std::stoull(line.substr(4));
        if (line.rfind("data: ", 0) == 0) e.data = json::parse(line.substr(6));
        if (nl == std::string::npos) break;
        pos = nl + 1;
      }
      if (e.name.empty()) continue;  // retry: line
      events.push_back(e);
      if (events.size() == 1 && opened) opened();
      if (e.name == "run") ++runs;
      if (e.name == "resync" || runs >= want) return false;
    }
    return true;
  });
  return events;
}

std::vector<sse_event> runs_of(const std::vector<sse_event>& all) {
  std::vector<sse_event> out;
  for (const auto& e : all)
    if (e.name == "run") out.push_back(e);
  return out;
}

/// Reads a stream on another thread; wait_open() returns once the server has answered it (its
/// hello), so what happens next is streamed live.
struct live_reader {
  std::promise<void> hello;
  std::future<std::vector<sse_event>> events;
  live_reader(int port, std::string path, std::size_t want) {
    events = std::async(std::launch::async, [this, port, path = std::move(path), want] {
      return read_stream(port, path, want, {}, [this] { hello.set_value(); });
    });
  }
  void wait_open() {
    BOOST_REQUIRE_MESSAGE(hello.get_future().wait_for(safety_timeout) == std::future_status::ready,
                          "the event stream did not open");
  }
};

json hello_chain() {
  return chain_of({json{{"id", "a"}, {"operation", "log"}}, json{{"id", "b"}, {"operation", "log"}}});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_events)

BOOST_AUTO_TEST_CASE(live_stream_delivers_every_event_in_order) {
  http_daemon d;
  const auto from = d.eng.seq();
  live_reader reader(d.web.port(), "/api/events?since=" + std::to_string(from) + "&epoch=" + d.eng.epoch(), 18);
  reader.wait_open();
  for (int i = 0; i < 3; ++i) BOOST_REQUIRE(d.eng.run(hello_chain()));  // 3 runs each: 6 events
  auto all = reader.events.get();
  BOOST_REQUIRE(!all.empty());
  BOOST_TEST(all.front().name == "hello");
  BOOST_TEST(all.front().data["epoch"] == d.eng.epoch());
  auto runs = runs_of(all);
  BOOST_REQUIRE(runs.size() == 18);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    BOOST_TEST(runs[i].id == from + i + 1);
    BOOST_TEST(runs[i].data["seq"] == from + i + 1);
    BOOST_TEST(runs[i].data["epoch"] == d.eng.epoch());
  }
  BOOST_TEST(runs.front().data["event"] == "before:run");
  BOOST_TEST(runs.front().data["run"]["operation"] == "run");
  BOOST_TEST(runs.back().data["event"] == "after:run");
  BOOST_TEST(runs.back().data["run"]["status"] == "completed");
}

BOOST_AUTO_TEST_CASE(reconnect_replays_from_last_event_id) {
  http_daemon d;
  for (int i = 0; i < 2; ++i) BOOST_REQUIRE(d.eng.run(hello_chain()));
  // Wait until the gateway's subscription has every event (it runs on its own thread).
  auto all = runs_of(read_stream(d.web.port(), "/api/events?since=0", 12));
  BOOST_REQUIRE(all.size() == 12);
  auto replay = runs_of(read_stream(d.web.port(), "/api/events?since=0", 5, {{"Last-Event-ID", "7"}}));
  BOOST_REQUIRE(replay.size() == 5);
  BOOST_TEST(replay.front().id == 8u);
  BOOST_TEST(replay.back().id == 12u);
}

BOOST_AUTO_TEST_CASE(events_no_longer_kept_ask_for_resync) {
  auto cfg = quiet_engine();
  cfg.replay_events = 8;  // the log keeps the last 8 events once read
  engine eng(cfg);
  for (int i = 0; i < 2; ++i) BOOST_REQUIRE(eng.run(hello_chain()));
  // A run's end is known before its last events are delivered; dropping a subscription waits for
  // everything published so far to be delivered.
  { auto drain = eng.subscribe([](const event&) {}); }
  http_gateway web(eng, http_daemon::config({}));  // started after 12 events: only 5..12 are kept
  BOOST_REQUIRE(web.start());
  auto old = read_stream(web.port(), "/api/events?since=3", 1);
  BOOST_REQUIRE(!old.empty());
  BOOST_TEST(old.back().name == "resync");
  BOOST_TEST(old.back().data["seq"] == eng.seq());
  auto other_epoch = read_stream(web.port(), "/api/events?since=12&epoch=ep-other", 1);
  BOOST_TEST(other_epoch.back().name == "resync");
  auto ahead = read_stream(web.port(), "/api/events?since=99", 1);
  BOOST_TEST(ahead.back().name == "resync");
  // From the current seq it streams what comes next.
  live_reader reader(web.port(), "/api/events?since=12", 6);
  reader.wait_open();
  BOOST_REQUIRE(eng.run(hello_chain()));
  auto next = runs_of(reader.events.get());
  BOOST_REQUIRE(next.size() == 6);
  BOOST_TEST(next.front().id == 13u);
}

BOOST_AUTO_TEST_CASE(idle_stream_sends_heartbeats_with_its_seq) {
  http_daemon d;
  BOOST_REQUIRE(d.eng.run(hello_chain()));
  httplib::Client c("127.0.0.1", d.web.port());
  c.set_read_timeout(10, 0);
  std::string seen;
  c.Get("/api/events?since=6", [&](const char* data, std::size_t n) {
    seen.append(data, n);
    return seen.find("event: heartbeat") == std::string::npos;
  });
  BOOST_TEST(seen.find("event: heartbeat\ndata: {\"epoch\":\"" + d.eng.epoch() + "\",\"seq\":6,\"stream\":\"" +
                       d.eng.stream() + "\"}") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

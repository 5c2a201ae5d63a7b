// /metrics over real HTTP: the text format parses, and the counters match the runs performed.
#include <filesystem>
#include <map>
#include <regex>

#include <boost/test/unit_test.hpp>

#include "coworker/service.hpp"
#include "http_fixture.hpp"

using namespace coworker;
using namespace coworker::test;

namespace {

/// Every sample line `name{labels} value`, keyed by `name{labels}`; every other line a comment.
std::map<std::string, double> parse_metrics(const std::string& text) {
  static const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})?) (-?[0-9.e+-]+|\+Inf|NaN)$)");
  static const std::regex comment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$)");
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, sample)) {
      out[m[1]] = std::stod(m[5]);
      continue;
    }
    BOOST_TEST(std::regex_match(line, comment), "not a metrics line: " << line);
  }
  return out;
}

std::map<std::string, double> scrape(httplib::Client& c) {
  auto r = c.Get("/metrics");
  BOOST_REQUIRE(r);
  BOOST_REQUIRE(r->status == 200);
  BOOST_TEST(r->get_header_value("Content-Type").find("text/plain; version=0.0.4") == 0);
  return parse_metrics(r->body);
}

/// Scrapes once the metrics have counted every event published so far: they count in an engine
/// subscription, and dropping a subscription waits until every subscriber has had those events.
std::map<std::string, double> scrape_settled(httplib::Client& c, engine& eng) {
  drain_subscribers(eng);
  return scrape(c);
}

/// The first run in `tree` (depth first) whose stepId is `id`.
const json* find_step(const json& tree, const std::string& id) {
  if (tree.value("stepId", json()) == json(id)) return &tree;
  for (const auto& c : tree["children"])
    if (auto* f = find_step(c, id)) return f;
  return nullptr;
}

struct expected_counts {
  std::map<std::string, std::map<std::string, int>> by_op;  // operation → counter → n
  void add(const json& node) {
    auto& c = by_op[node["operation"].get<std::string>()];
    if (!node["started"].is_null()) ++c["started"], ++c["timed"];
    ++c[node["status"].get<std::string>()];
    if (node["recovered"] == true) ++c["recovered"];
    for (const auto& child : node["children"]) add(child);
  }
};

json recovered_parallel_chain() {
  return chain_of(
      {json{{"id", "both"}, {"parallel", {"x", "y"}},
            {"operations", {json{{"id", "x"}, {"operation", "log"}}, json{{"id", "y"}, {"operation", "wait"}, {"input", {{"ms", 20}}}}}}},
       json{{"id", "bad"}, {"operation", "log"}, {"input", "{{x.output.missing}}"},
            {"onError", {{"operation", "log"}, {"input", {{"recovered", "{{error.code}}"}}}}}},
       json{{"id", "never"}, {"operation", "log"}, {"if", "1 > 2"}}});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_metrics)

BOOST_AUTO_TEST_CASE(counters_match_the_runs_performed) {
  http_daemon d;
  auto c = d.client();
  expected_counts want;
  for (int i = 0; i < 3; ++i) {
    auto t = d.eng.run(chain_of({json{{"id", "a"}, {"operation", "log"}}, json{{"id", "b"}, {"operation", "message"}, {"input", {{"text", "hi"}}}}}));
    BOOST_REQUIRE(t);
    want.add(*t);
  }
  auto t = d.eng.run(recovered_parallel_chain());
  BOOST_REQUIRE(t);
  BOOST_TEST((*t)["status"] == "completed");
  want.add(*t);
  auto failing = d.eng.run(chain_of({json{{"id", "f"}, {"operation", "log"}, {"input", "{{input.nope}}"}}}));
  BOOST_REQUIRE(failing);
  want.add(*failing);

  auto m = scrape_settled(c, d.eng);
  BOOST_TEST(m["coworker_events_published_total"] == static_cast<double>(d.eng.seq()));
  for (const auto& [op, counts] : want.by_op) {
    auto label = "{operation=\"" + op + "\"}";
    auto n = [&](const char* k) { auto it = counts.find(k); return it == counts.end() ? 0.0 : double(it->second); };
    BOOST_TEST(m["coworker_runs_started_total" + label] == n("started"), op);
    BOOST_TEST(m["coworker_runs_completed_total" + label] == n("completed"), op);
    BOOST_TEST(m["coworker_runs_failed_total" + label] == n("failed"), op);
    BOOST_TEST(m["coworker_runs_recovered_total" + label] == n("recovered"), op);
    BOOST_TEST(m["coworker_runs_skipped_total" + label] == n("skipped"), op);
    BOOST_TEST(m["coworker_step_duration_seconds_count" + label] == n("timed"), op);
    BOOST_TEST(m["coworker_step_duration_seconds_bucket{operation=\"" + op + "\",le=\"+Inf\"}"] == n("timed"), op);
  }
  BOOST_TEST(m["coworker_runs_started_total{operation=\"run\"}"] == 5);
  BOOST_TEST(m["coworker_runs_failed_total{operation=\"run\"}"] == 1);
  BOOST_TEST(m["coworker_runs_recovered_total{operation=\"log\"}"] == 1);
  BOOST_TEST(m["coworker_runs_skipped_total{operation=\"log\"}"] == 1);
  BOOST_TEST(m["coworker_runs_completed_total{operation=\"parallel\"}"] == 1);
  BOOST_TEST(m["coworker_runs_in_flight"] == 0);
  BOOST_TEST(m["coworker_chains_in_flight"] == 0);
  BOOST_TEST(m["coworker_event_subscribers"] >= 1);
  BOOST_TEST(m["coworker_http_event_streams"] == 0);
  BOOST_TEST(m["coworker_store_commit_duration_seconds_count"] == 0);  // in memory: no store
  BOOST_TEST(m.count("coworker_workers") == 0);                         // no worker socket
  // Buckets grow with their bound.
  double last = 0;
  for (const char* le : {"0.0005", "0.001", "0.01", "0.1", "1", "10", "60", "+Inf"}) {
    auto v = m["coworker_step_duration_seconds_bucket{operation=\"wait\",le=\"" + std::string(le) + "\"}"];
    BOOST_TEST(v >= last, le);
    last = v;
  }
  // The duration observed is the one in the run's record (the chain's only wait).
  const auto* wait_run = find_step(*t, "y");
  BOOST_REQUIRE(wait_run);
  const double recorded = ((*wait_run)["finished"].get<double>() - (*wait_run)["started"].get<double>()) / 1000.0;
  BOOST_TEST(m["coworker_step_duration_seconds_sum{operation=\"wait\"}"] == recorded, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(in_flight_runs_are_counted_while_they_run) {
  http_daemon d;
  auto c = d.client();
  event_counter slow_started(d.eng, started_step("slow"));
  auto id = d.eng.submit(chain_of({json{{"id", "slow"}, {"operation", "wait"}, {"input", {{"ms", 600000}}}}}));
  BOOST_REQUIRE(id);
  BOOST_REQUIRE_MESSAGE(slow_started.wait_for(1), "the wait step did not start");
  auto m = scrape_settled(c, d.eng);
  BOOST_TEST(m["coworker_runs_in_flight"] == 2);  // the chain and its wait step
  BOOST_TEST(m["coworker_chains_in_flight"] == 1);
  BOOST_REQUIRE(d.eng.cancel(*id));
  BOOST_REQUIRE(d.eng.wait(*id, safety_timeout));
  m = scrape_settled(c, d.eng);
  BOOST_TEST(m["coworker_runs_in_flight"] == 0);
  BOOST_TEST(m["coworker_runs_cancelled_total{operation=\"wait\"}"] == 1);
}

BOOST_AUTO_TEST_CASE(durable_store_and_workers_are_measured) {
  auto dir = std::filesystem::temp_directory_path() / ("coworker-http-metrics-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    auto cfg = quiet_engine();
    cfg.db_path = (dir / "runs.db").string();
    engine eng(cfg);
    BOOST_REQUIRE(!eng.startup_error());
    service_config sc;
    sc.requests = sc.events = sc.workers = "tcp://127.0.0.1:*";
    service svc(eng, sc);
    BOOST_REQUIRE(svc.start());
    http_gateway web(eng, http_daemon::config({}), &svc);
    BOOST_REQUIRE(web.start());
    BOOST_REQUIRE(eng.run(chain_of({json{{"id", "a"}, {"operation", "log"}}})));
    httplib::Client c("127.0.0.1", web.port());
    auto m = scrape_settled(c, eng);
    BOOST_TEST(m["coworker_store_commit_duration_seconds_count"] >= 1);
    BOOST_TEST(m["coworker_store_commit_duration_seconds_bucket{le=\"+Inf\"}"] ==
               m["coworker_store_commit_duration_seconds_count"]);
    BOOST_TEST(m.count("coworker_workers") == 1);
    BOOST_TEST(m["coworker_workers"] == 0);
    BOOST_TEST(m.count("coworker_worker_tasks{state=\"queued\"}") == 1);
    BOOST_TEST(m["coworker_event_subscribers"] == 1);  // the HTTP endpoint's; the PUB socket reads the log with a cursor
  }
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()

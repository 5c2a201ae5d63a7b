// Events: order, seq continuity, envelopes; many chains at once; engine shutdown with runs in flight.
#include <map>

#include "core/value_forms.hpp"
#include "engine_fixture.hpp"

using namespace coworker;
using namespace coworker::test;

BOOST_FIXTURE_TEST_SUITE(events, engine_fixture)

BOOST_AUTO_TEST_CASE(chain_events_enclose_their_children_in_order) {
  event_log log;
  auto sub = eng.subscribe([&](const event& e) { log.add(e); });
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"a","operation":"echo","input":1},
      {"id":"skip","operation":"echo","if":false},
      {"id":"inner","operation":"run","children":[{"id":"b","operation":"echo"}]}]})"));
  sub.reset();
  auto events = log.copy();
  std::vector<std::string> seen;
  for (const auto& e : events) seen.push_back(std::string(to_string(e.kind)) + " " + e.run->step_id);
  std::vector<std::string> expected{"before:run ", "before:run a", "after:run a", "after:run skip",
                                    "before:run inner", "before:run b", "after:run b", "after:run inner",
                                    "after:run "};
  BOOST_TEST(seen == expected, boost::test_tools::per_element());
  for (std::size_t i = 1; i < events.size(); ++i) BOOST_TEST(events[i].seq == events[i - 1].seq + 1);
  for (const auto& e : events) BOOST_TEST(e.epoch == eng.epoch());
  // before:run carries the resolved input and the running status.
  BOOST_TEST(to_string(events[1].run->status) == "running");
  BOOST_TEST(deref(events[1].run->input) == json(1));
  auto envelope = to_json(events.back());
  BOOST_TEST(envelope["event"] == "after:run");
  BOOST_TEST(envelope["run"]["id"] == tree["id"]);
  BOOST_TEST(topic_of(events.back()) == "after:run " + tree["id"].get<std::string>() + " " + tree["id"].get<std::string>());
}

BOOST_AUTO_TEST_CASE(large_values_are_references_in_events_but_whole_in_records) {
  std::string big(100 * 1024, 'x');
  auto tree = run(json{{"operation", "run"}, {"children", json::array({json{{"id", "a"}, {"operation", "echo"},
                                                                             {"input", big}}})}});
  const auto& a = step(tree, "a");
  BOOST_TEST(a["output"].get<std::string>().size() == big.size());
  auto rec = eng.get(a["id"]);
  BOOST_REQUIRE(rec.has_value());
  event e{1, "ep", 0, event_kind::after_run, std::make_shared<run_record>(*rec), "node-test"};
  auto env = to_json(e, eng.forms());
  BOOST_TEST(env["run"]["output"]["$blob"] == eng.forms().of(*rec).output->at("$blob"));
  BOOST_TEST(env["run"]["output"]["bytes"] == big.size() + 2);
  BOOST_TEST(*eng.blob(env["run"]["output"]["$blob"]) == big);
}

BOOST_AUTO_TEST_CASE(a_slow_subscriber_does_not_stall_runs) {
  // The subscriber is stuck in its first event until every chain has ended: chains that waited
  // for it could not end, and run() would fail at the safety timeout.
  gate unblock;
  arrivals got;
  auto slow = eng.subscribe([&](const event&) {
    unblock.wait();
    got.arrive();
  });
  at_scope_exit open_it([&] { unblock.open(); });  // before `slow` ends, however the test ends
  for (int i = 0; i < 5; ++i)
    BOOST_TEST(run(json::parse(R"({"operation":"run","children":[{"operation":"echo","input":1},{"operation":"echo"}]})"))
                   ["status"] == "completed");
  BOOST_TEST(got.count() == 0);  // still in its first event
  unblock.open();
  // Then it gets every event: 5 chains × 3 runs × 2.
  BOOST_TEST(got.wait_for(30), "the subscriber got " << got.count() << " of 30 events");
}

BOOST_AUTO_TEST_CASE(thousand_chains_at_once_all_finish_with_correct_records) {
  event_log log;
  auto sub = eng.subscribe([&](const event& e) { log.add(e); });
  auto chain = json::parse(R"({"operation":"run","input":{"n":0},"children":[
      {"id":"a","operation":"add"},
      {"id":"g","parallel":["p","q"],"operations":[{"id":"p","operation":"add"},{"id":"q","operation":"wait","input":{"ms":1}}]},
      {"id":"z","operation":"echo","input":"{{p.output.n}}"}]})");
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    submit_options o;
    o.input = json{{"n", i}};
    auto id = eng.submit(chain, o);
    BOOST_REQUIRE(id.has_value());
    ids.push_back(*id);
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto r = eng.wait(ids[i], std::chrono::seconds(60));
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(to_string(r->status) == "completed");
    BOOST_TEST(deref(r->output)["last"] == json(static_cast<int>(i) + 2));
  }
  sub.reset();
  auto events = log.copy();
  BOOST_TEST(events.size() == 1000u * 12u);  // 6 runs per chain, 2 events each
  for (std::size_t i = 1; i < events.size(); ++i) BOOST_REQUIRE(events[i].seq == events[i - 1].seq + 1);
  // Per run: before:run precedes after:run, exactly once each.
  std::map<std::string, int> state;
  for (const auto& e : events) {
    auto& s = state[e.run->id];
    if (e.kind == event_kind::before_run) {
      BOOST_REQUIRE(s == 0);
      s = 1;
    } else {
      BOOST_REQUIRE(s == 1);
      s = 2;
    }
  }
  BOOST_TEST(eng.active_chains() == 0u);
}

BOOST_AUTO_TEST_CASE(idempotency_key_returns_the_same_run) {
  submit_options o;
  o.key = "order-42";
  auto chain = json::parse(R"({"operation":"run","children":[{"operation":"wait","input":{"ms":10}}]})");
  auto a = eng.submit(chain, o);
  auto b = eng.submit(chain, o);
  BOOST_REQUIRE(a.has_value());
  BOOST_REQUIRE(b.has_value());
  BOOST_TEST(*a == *b);
  BOOST_TEST(eng.list({std::nullopt, "", true, 100}).size() == 1u);
}

BOOST_AUTO_TEST_CASE(snapshot_carries_seq_and_records) {
  auto tree = run(json::parse(R"({"operation":"run","children":[{"operation":"echo","input":1}]})"));
  auto snap = eng.snapshot();
  BOOST_TEST(snap["seq"] == eng.seq());
  BOOST_TEST(snap["epoch"] == eng.epoch());
  BOOST_TEST(snap["runs"].size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lifecycle)

BOOST_AUTO_TEST_CASE(destroying_the_engine_cancels_runs_in_flight) {
  std::vector<event> last;
  std::mutex mu;
  {
    engine_config c;
    c.log_sink = [](std::string_view, std::string_view) {};
    subscription sub;  // outlives the engine, so it sees the cancellations of the shutdown
    engine eng(c);
    sub = eng.subscribe([&](const event& e) {
      std::lock_guard lock(mu);
      last.push_back(e);
    });
    event_counter waiting(eng, [](const event& e) { return e.kind == event_kind::before_run && e.run->operation == "wait"; });
    // Waits that cannot end on their own while the test runs: only the shutdown ends them.
    for (int i = 0; i < 50; ++i) {
      auto id = eng.submit(json::parse(R"({"operation":"run","children":[{"operation":"wait","input":{"ms":600000}}]})"));
      BOOST_REQUIRE(id.has_value());
    }
    BOOST_REQUIRE_MESSAGE(waiting.wait_for(50), "only " << waiting.count() << " of 50 waits started");
  }
  std::lock_guard lock(mu);
  int cancelled_roots = 0;
  for (const auto& e : last)
    if (e.kind == event_kind::after_run && e.run->owner_run_id.empty() && e.run->status == run_status::cancelled)
      ++cancelled_roots;
  BOOST_TEST(cancelled_roots == 50);
}

BOOST_AUTO_TEST_CASE(retention_keeps_the_newest_finished_chains) {
  engine_config c;
  c.retain_chains = 5;
  c.log_sink = [](std::string_view, std::string_view) {};
  engine eng(c);
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    auto t = eng.run(json::parse(R"({"operation":"run","children":[{"operation":"log","input":1}]})"));
    BOOST_REQUIRE(t.has_value());
    ids.push_back((*t)["id"]);
  }
  BOOST_TEST(eng.list({std::nullopt, "", true, 100}).size() == 5u);
  BOOST_TEST(eng.get(ids.front()).error().code == "not_found");
  auto kept = eng.tree(ids.back());
  BOOST_REQUIRE(kept.has_value());
  BOOST_TEST((*kept)["children"].size() == 1u);  // the whole tree of a kept chain
}

BOOST_AUTO_TEST_CASE(busy_past_the_concurrent_run_limit) {
  engine_config c;
  c.lim.max_concurrent_runs = 3;
  c.log_sink = [](std::string_view, std::string_view) {};
  engine eng(c);
  auto chain = json::parse(R"({"operation":"run","children":[{"operation":"wait","input":{"ms":60000}}]})");
  for (int i = 0; i < 3; ++i) BOOST_REQUIRE(eng.submit(chain).has_value());
  auto r = eng.submit(chain);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == "busy");
}

BOOST_AUTO_TEST_SUITE_END()

// await steps and signals through the engine (docs/chain-language.md, "await"): the waiting status
// and its event, signals by key and by run id, kept signals, and a durable engine that stops and
// starts again while a run waits.
#include <filesystem>

#include "../temp_dir.hpp"
#include "engine_fixture.hpp"
#include "../postgres.hpp"

using namespace coworker;
using namespace coworker::test;

namespace {

const json approval_chain = json::parse(R"({"operation":"run","id":"invoice","input":{"id":7},"children":[
  {"id":"approve","operation":"await","input":{"key":"invoice-{{input.id}}",
   "schema":{"type":"object","required":["ok"],"properties":{"ok":{"type":"boolean"}}}}},
  {"id":"after","operation":"log","input":{"approved":"{{approve.output.ok}}"}}]})");

/// True for the update:run event that says step `step_id` waits.
std::function<bool(const event&)> waiting_step(std::string step_id) {
  return [id = std::move(step_id)](const event& e) {
    return e.kind == event_kind::update_run && e.run->step_id == id && e.run->status == run_status::waiting;
  };
}

std::string run_of_step(engine& eng, const std::string& chain_id, const std::string& step_id) {
  for (const auto& r : eng.list({std::nullopt, chain_id, false, 1000}))
    if (r.step_id == step_id) return r.id;
  return {};
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(signals, engine_fixture)

BOOST_AUTO_TEST_CASE(an_await_waits_publishes_waiting_and_completes_with_the_signal) {
  event_counter waiting(eng, waiting_step("approve"));
  auto id = eng.submit(approval_chain);
  BOOST_REQUIRE(id);
  BOOST_REQUIRE(waiting.wait_for(1));
  auto step = run_of_step(eng, *id, "approve");
  BOOST_TEST(to_string(eng.get(step)->status) == "waiting");
  BOOST_TEST(to_string(eng.get(*id)->status) == "running");  // the chain stays running
  auto sent = eng.signal("invoice-7", json{{"ok", true}});
  BOOST_REQUIRE_MESSAGE(sent, error_text(sent));
  BOOST_TEST(sent->delivered);
  BOOST_TEST(sent->run_id == step);
  auto done = eng.wait(*id, safety_timeout);
  BOOST_REQUIRE(done);
  BOOST_TEST(to_string(done->status) == "completed");
  auto tree = eng.tree(*id);
  BOOST_TEST((*tree)["children"][0]["output"].dump() == R"({"ok":true})");
  BOOST_TEST((*tree)["children"][1]["output"].dump() == R"({"approved":true})");
}

BOOST_AUTO_TEST_CASE(an_invalid_payload_is_refused_and_the_step_keeps_waiting) {
  event_counter waiting(eng, waiting_step("approve"));
  auto id = eng.submit(approval_chain);
  BOOST_REQUIRE(waiting.wait_for(1));
  auto bad = eng.signal("invoice-7", json{{"ok", "yes"}});
  BOOST_REQUIRE(!bad);
  BOOST_TEST(bad.error().code == codes::invalid_input);
  BOOST_TEST(bad.error().path == "/payload/ok");
  BOOST_TEST(to_string(eng.get(run_of_step(eng, *id, "approve"))->status) == "waiting");
  BOOST_TEST(eng.signal("invoice-7", json{{"ok", false}})->delivered);
  BOOST_TEST(to_string(eng.wait(*id, safety_timeout)->status) == "completed");
}

BOOST_AUTO_TEST_CASE(a_signal_sent_before_the_await_starts_is_kept_and_delivered_when_it_does) {
  auto sent = eng.signal("invoice-7", json{{"ok", true}});
  BOOST_REQUIRE(sent);
  BOOST_TEST(!sent->delivered);
  auto r = eng.run(approval_chain);
  BOOST_REQUIRE(r);
  BOOST_TEST((*r)["status"] == "completed");
  BOOST_TEST((*r)["children"][1]["output"]["approved"] == true);
}

BOOST_AUTO_TEST_CASE(a_signal_by_run_id_needs_that_run_to_wait) {
  event_counter waiting(eng, waiting_step("approve"));
  auto id = eng.submit(approval_chain);
  BOOST_REQUIRE(waiting.wait_for(1));
  BOOST_TEST(eng.signal_run("run-nope", 1).error().code == codes::not_found);
  BOOST_TEST(eng.signal_run(*id, 1).error().code == codes::not_waiting);  // the chain is not an await
  auto step = run_of_step(eng, *id, "approve");
  BOOST_TEST(eng.signal_run(step, json{{"ok", true}})->delivered);
  BOOST_TEST(to_string(eng.wait(*id, safety_timeout)->status) == "completed");
  BOOST_TEST(eng.signal_run(step, json{{"ok", true}}).error().code == codes::not_waiting);
}

BOOST_AUTO_TEST_CASE(an_await_timeout_goes_to_on_error) {
  auto r = eng.run(json::parse(R"({"operation":"run","children":[
    {"id":"approve","operation":"await","input":{"key":"nobody"},"options":{"timeoutMs":50},
     "onError":{"id":"escalate","operation":"echo","input":{"why":"{{error.code}}"}}}]})"));
  BOOST_REQUIRE(r);
  BOOST_TEST((*r)["status"] == "completed");
  BOOST_TEST((*r)["children"][0]["error"]["code"] == "timeout");
  BOOST_TEST((*r)["children"][0]["recovered"] == true);
  BOOST_TEST((*r)["children"][0]["children"][0]["output"]["why"] == "timeout");
}

BOOST_AUTO_TEST_CASE(a_cancelled_await_stops_waiting) {
  event_counter waiting(eng, waiting_step("approve"));
  auto id = eng.submit(approval_chain);
  BOOST_REQUIRE(waiting.wait_for(1));
  BOOST_REQUIRE(eng.cancel(*id));
  BOOST_TEST(to_string(eng.wait(*id, safety_timeout)->status) == "cancelled");
  auto sent = eng.signal("invoice-7", json{{"ok", true}});
  BOOST_TEST(!sent->delivered);  // kept for a later await: the cancelled one takes nothing
}

BOOST_AUTO_TEST_CASE(an_await_with_a_bad_schema_is_refused_before_it_runs) {
  auto errs = eng.validate(json::parse(R"({"operation":"run","children":[
    {"id":"a","operation":"await","input":{"key":"k","schema":{"type":"object","properties":{"x":{"format":"email"}}}}},
    {"id":"b","operation":"await","input":{"schema":{}}},
    {"id":"c","operation":"await","input":{"key":"k","extra":1}}]})"));
  BOOST_REQUIRE(errs.size() == 3u);
  BOOST_TEST(errs[0].path == "/children/0/input/schema/properties/x/format");
  BOOST_TEST(errs[1].path == "/children/1/input");
  BOOST_TEST(errs[2].path == "/children/2/input/extra");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(signals_durable)

// A durable engine that stops (a SIGTERM of `coworker serve`) leaves the waiting chain to the next
// one, which waits again and takes the signal; a signal kept by the first is still there.
BOOST_AUTO_TEST_CASE(a_waiting_run_survives_a_stop_and_a_kept_signal_survives_too) {
  temp_dir dir("signals");
  const auto db = test::store_at((dir.path / "store.db").string());
  std::string id, step;
  {
    engine first(durable_config(db));
    event_counter waiting(first, waiting_step("approve"));
    auto sub = first.submit(approval_chain);
    BOOST_REQUIRE(sub);
    id = *sub;
    BOOST_REQUIRE(waiting.wait_for(1));
    step = run_of_step(first, id, "approve");
    auto kept = first.signal("for-later", json{{"n", 1}});
    BOOST_REQUIRE_MESSAGE(kept, error_text(kept));
    BOOST_TEST(!kept->delivered);
  }  // stops: in durable mode nothing is cancelled
  engine second(durable_config(db));
  event_counter waiting(second, waiting_step("approve"));
  BOOST_TEST(to_string(second.get(id)->status) == "running");
  BOOST_TEST(second.resume() == 1u);
  BOOST_REQUIRE(waiting.wait_for(1));
  BOOST_TEST(to_string(second.get(step)->status) == "waiting");  // the same run waits again
  auto sent = second.signal("invoice-7", json{{"ok", true}});
  BOOST_REQUIRE_MESSAGE(sent, error_text(sent));
  BOOST_TEST(sent->run_id == step);
  auto done = second.wait(id, safety_timeout);  // delivered means stored: it has ended already
  BOOST_REQUIRE(done);
  BOOST_TEST(to_string(done->status) == "completed");
  auto later = second.run(json::parse(R"({"operation":"run","children":[
    {"id":"w","operation":"await","input":{"key":"for-later"}}]})"));
  BOOST_REQUIRE(later);
  BOOST_TEST((*later)["children"][0]["output"]["n"] == 1);
}

BOOST_AUTO_TEST_SUITE_END()

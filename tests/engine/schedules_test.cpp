// Schedules through the embedding API (docs/chain-language.md, "Schedules"): fires, validation with
// pointers, pause, unschedule and limits.schedules. The rules themselves: tests/unit/lang/schedule_test.cpp.
#include "engine_fixture.hpp"

using namespace coworker;
using namespace coworker::test;

namespace {

json ticking(const std::string& name, std::int64_t every_ms) {
  return json{{"name", name}, {"everyMs", every_ms},
              {"chain", {{"operation", "run"}, {"id", name}, {"children", {{{"operation", "log"}, {"input", "{{input}}"}}}}}},
              {"input", {{"from", name}}}};
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(schedules, engine_fixture)

BOOST_AUTO_TEST_CASE(an_every_ms_schedule_starts_its_chain_with_its_input_on_each_fire) {
  event_counter ended(eng, [](const event& e) {
    return e.kind == event_kind::after_run && e.run->owner_run_id.empty() && e.run->step_id == "tick" &&
           e.run->status == run_status::completed && deref(e.run->input) == json{{"from", "tick"}};
  });
  auto r = eng.schedule(ticking("tick", 100));
  BOOST_REQUIRE_MESSAGE(r, error_text(r));
  BOOST_TEST((*r)["name"] == "tick");
  BOOST_REQUIRE(ended.wait_for(3));
  auto listed = eng.schedules();
  BOOST_REQUIRE(listed.size() == 1u);
  BOOST_TEST(listed[0]["lastFireAt"].is_number_integer());
  BOOST_TEST(listed[0]["lastRunId"].is_string());
  BOOST_REQUIRE(eng.unschedule("tick"));
  BOOST_TEST(eng.schedules().empty());
  BOOST_TEST(eng.unschedule("tick").error().code == codes::not_found);
}

BOOST_AUTO_TEST_CASE(a_schedule_with_a_bad_chain_or_rule_is_refused_with_its_pointer) {
  auto bad = ticking("bad", 1000);
  bad["chain"]["children"][0]["input"] = "{{ghost.output}}";
  auto r = eng.schedule(bad);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().code == codes::unknown_reference);
  BOOST_TEST(r.error().path == "/chain/children/0/input");
  auto cron = ticking("bad", 1000);
  cron.erase("everyMs");
  cron["cron"] = "0 25 * * *";
  BOOST_TEST(eng.schedule(cron).error().path == "/cron");
  BOOST_TEST(eng.schedules().empty());
}

BOOST_AUTO_TEST_CASE(pausing_stops_the_fires_and_unknown_names_are_not_found) {
  auto r = eng.schedule(ticking("p", 3'600'000));
  BOOST_REQUIRE(r);
  BOOST_TEST((*r)["nextFireAt"].is_number_integer());
  auto paused = eng.schedule(json{{"name", "p"}, {"paused", true}});
  BOOST_REQUIRE(paused);
  BOOST_TEST((*paused)["nextFireAt"].is_null());
  BOOST_TEST(eng.schedules()[0]["paused"] == true);
  BOOST_TEST(eng.schedule(json{{"name", "q"}, {"paused", true}}).error().code == codes::not_found);
  BOOST_TEST(eng.schedule(json{{"name", 5}, {"paused", true}}).error().path == "/name");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(schedules_past_the_limit_are_busy_and_replacing_one_still_works) {
  auto cfg = engine_fixture::make_config();
  cfg.lim.max_schedules = 2;
  engine eng(cfg);
  BOOST_REQUIRE(eng.schedule(ticking("a", 3'600'000)));
  BOOST_REQUIRE(eng.schedule(ticking("b", 3'600'000)));
  auto third = eng.schedule(ticking("c", 3'600'000));
  BOOST_TEST(third.error().code == codes::busy);
  BOOST_TEST(static_cast<bool>(eng.schedule(ticking("b", 7'200'000))));
  BOOST_TEST(eng.schedules().size() == 2u);
}

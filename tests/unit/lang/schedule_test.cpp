// Schedules without threads or clocks: cron expressions against a table of known next fire times
// (DST changes in Berlin included), and the rules of when a schedule fires (src/core/schedule_book.hpp):
// everyMs, overlap (skip, bufferOne, allow), catch-up after a restart, late ticks, pause.
#include <boost/test/unit_test.hpp>

#include "core/cron.hpp"
#include "core/schedule_book.hpp"

using namespace coworker;

namespace {

std::int64_t next(const char* expr, const char* zone, std::int64_t after) {
  auto s = cron::parse(expr, "/cron");
  BOOST_REQUIRE_MESSAGE(s, expr);
  auto z = cron::load_zone(zone, "/tz");
  BOOST_REQUIRE(z);
  return cron::next_after(*s, *z, after).value_or(-1);
}

schedule_def every(std::string name, std::int64_t ms, std::int64_t created) {
  auto d = parse_schedule(json{{"name", name}, {"everyMs", ms}, {"chain", {{"operation", "run"}}}}, created);
  BOOST_REQUIRE(d);
  return *d;
}

const auto never_running = [](const std::string&) { return false; };

}  // namespace

BOOST_AUTO_TEST_SUITE(cron_expressions)

BOOST_AUTO_TEST_CASE(next_fire_times_match_a_table_of_known_times) {
  // 2026-12-02 is a Wednesday.
  BOOST_TEST(next("*/15 * * * *", "UTC", 1796213250000) == 1796213700000);      // 12:07:30 → 12:15
  BOOST_TEST(next("@hourly", "UTC", 1796212800000) == 1796216400000);           // 12:00 → 13:00, strictly after
  BOOST_TEST(next("0 9 * * mon-fri", "UTC", 1796378400000) == 1796634000000);   // Fri 10:00 → Mon 09:00
  BOOST_TEST(next("0 0 1,15 * 5", "UTC", 1796169600000) == 1796342400000);      // day 1 or 15, or a Friday: Fri 4th
  BOOST_TEST(next("0 12 * * *", "America/New_York", 1796169600000) == 1796230800000);  // 12:00 EST = 17:00 UTC
  BOOST_TEST(next("0 0 30 2 *", "UTC", 1796169600000) == -1);                   // 30 February never comes
}

BOOST_AUTO_TEST_CASE(a_local_time_skipped_by_dst_fires_when_the_gap_ends_and_a_repeated_one_once) {
  // Berlin, 29 March 2026: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
  BOOST_TEST(next("30 2 * * *", "Europe/Berlin", 1774699200000) == 1774746000000);  // 03:00 CEST = 01:00 UTC
  BOOST_TEST(next("30 2 * * *", "Europe/Berlin", 1774746000000) == 1774830600000);  // the next day, 02:30 CEST
  // 25 October 2026: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice, fires the first time.
  BOOST_TEST(next("30 2 * * *", "Europe/Berlin", 1792843200000) == 1792888200000);  // 02:30 CEST = 00:30 UTC
  BOOST_TEST(next("30 2 * * *", "Europe/Berlin", 1792888200000) == 1792978200000);  // not 01:30 UTC: the next day
}

BOOST_AUTO_TEST_CASE(bad_expressions_and_zones_are_refused_with_the_field) {
  auto e = cron::parse("61 * * * *", "/cron");
  BOOST_REQUIRE(!e);
  BOOST_TEST(e.error().path == "/cron");
  BOOST_TEST(e.error().message.find("minute field '61'") != std::string::npos);
  BOOST_TEST(cron::parse("* * *", "/cron").error().message.find("five fields") != std::string::npos);
  BOOST_TEST(cron::parse("0 0 * * 8", "/cron").error().message.find("day-of-week") != std::string::npos);
  BOOST_TEST(cron::parse("*/0 * * * *", "/cron").error().message.find("step") != std::string::npos);
  BOOST_TEST(cron::parse("0 0 * foo *", "/cron").error().message.find("month") != std::string::npos);
  BOOST_TEST(static_cast<bool>(cron::parse("0 0 * JAN,jul SUN-sat/2", "/cron")));
  BOOST_TEST(cron::load_zone("Mars/Olympus", "/tz").error().path == "/tz");
  BOOST_TEST(!cron::load_zone("../../etc/passwd", "/tz"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(schedule_rules)

BOOST_AUTO_TEST_CASE(every_ms_fires_once_per_period_and_a_late_tick_fires_once) {
  schedule_book b;
  BOOST_TEST(*b.put(every("s", 1000, 0), 0) == 1000);
  int fires = 0;
  for (std::int64_t now = 0; now <= 10'000; now += 100) {
    for (const auto& f : b.due(now, never_running)) {
      BOOST_TEST(f.time == now);  // due exactly at its time when ticks are on time
      b.started(f.name, f.time, "run-" + std::to_string(f.time));
      ++fires;
    }
  }
  BOOST_TEST(fires == 10);
  // The engine was busy for 5.5 s: one fire, for the latest time due, then on schedule again.
  auto late = b.due(15'500, never_running);
  BOOST_REQUIRE(late.size() == 1u);
  BOOST_TEST(late[0].time == 15'000);
  BOOST_TEST(*b.earliest(15'500) == 16'000);
}

BOOST_AUTO_TEST_CASE(overlap_skip_drops_fires_while_the_last_run_runs) {
  schedule_book b;
  BOOST_REQUIRE(b.put(every("s", 1000, 0), 0));
  bool running = false;
  auto is_running = [&](const std::string&) { return running; };
  auto f = b.due(1000, is_running);
  BOOST_REQUIRE(f.size() == 1u);
  b.started("s", 1000, "run-1");
  running = true;
  BOOST_TEST(b.due(2000, is_running).empty());
  BOOST_TEST(b.due(3000, is_running).empty());
  BOOST_TEST(b.list().front().skipped == 2u);
  running = false;
  BOOST_TEST(b.due(3500, is_running).empty());  // nothing kept
  BOOST_TEST(b.due(4000, is_running).size() == 1u);
}

BOOST_AUTO_TEST_CASE(overlap_buffer_one_keeps_one_fire_for_when_the_run_ends) {
  schedule_book b;
  auto d = every("s", 1000, 0);
  d.overlap = overlap_policy::buffer_one;
  BOOST_REQUIRE(b.put(d, 0));
  bool running = true;
  auto is_running = [&](const std::string&) { return running; };
  b.due(1000, is_running);
  b.started("s", 1000, "run-1");
  BOOST_TEST(b.due(2000, is_running).empty());
  BOOST_TEST(b.due(3000, is_running).empty());  // still one kept: the latest
  BOOST_TEST(*b.earliest(3000) <= 3250);      // looked at again soon, for the run's end
  running = false;
  auto f = b.due(3100, is_running);
  BOOST_REQUIRE(f.size() == 1u);
  BOOST_TEST(f[0].time == 3000);
  BOOST_TEST(b.due(3200, is_running).empty());
}

BOOST_AUTO_TEST_CASE(overlap_allow_fires_anyway) {
  schedule_book b;
  auto d = every("s", 1000, 0);
  d.overlap = overlap_policy::allow;
  BOOST_REQUIRE(b.put(d, 0));
  b.due(1000, never_running);
  b.started("s", 1000, "run-1");
  BOOST_TEST(b.due(2000, [](const std::string&) { return true; }).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_restart_skips_missed_fires_or_fires_the_last_once) {
  // Last fired at 3000; the engine comes back at 7500.
  schedule_book none;
  BOOST_TEST(*none.put(every("s", 1000, 0), 7500, 3000, "run-3") == 8000);  // catchUp none: the next one
  schedule_book last;
  auto d = every("s", 1000, 0);
  d.catch_up = catch_up_policy::last;
  BOOST_TEST(*last.put(d, 7500, 3000, "run-3") == 7000);  // the latest missed, due at once
  auto f = last.due(7500, never_running);
  BOOST_REQUIRE(f.size() == 1u);
  BOOST_TEST(f[0].time == 7000);
  BOOST_TEST(*last.earliest(7500) == 8000);
  // Not down past a fire: nothing is missed, nothing fires twice.
  schedule_book on_time;
  BOOST_TEST(*on_time.put(d, 3500, 3000, "run-3") == 4000);
}

BOOST_AUTO_TEST_CASE(a_paused_schedule_does_not_fire) {
  schedule_book b;
  BOOST_REQUIRE(b.put(every("s", 1000, 0), 0));
  BOOST_TEST(b.set_paused("s", true, 500));
  BOOST_TEST(b.due(5000, never_running).empty());
  BOOST_TEST(!b.earliest(5000));
  BOOST_TEST(b.set_paused("s", false, 5000));
  BOOST_TEST(*b.earliest(5000) == 6000);
  BOOST_TEST(!b.set_paused("nope", true, 0));
}

BOOST_AUTO_TEST_CASE(definitions_are_checked_field_by_field) {
  auto at = [](const char* text) {
    auto d = parse_schedule(json::parse(text), 0);
    return d ? std::string("ok") : d.error().path;
  };
  BOOST_TEST(at(R"({"name":"a","cron":"* * * * *","chain":{}})") == "ok");
  BOOST_TEST(at(R"({"name":"a b","cron":"* * * * *","chain":{}})") == "/name");
  BOOST_TEST(at(R"({"name":"a","chain":{}})") == "/cron");
  BOOST_TEST(at(R"({"name":"a","cron":"* * * * *","everyMs":1000,"chain":{}})") == "/everyMs");
  BOOST_TEST(at(R"({"name":"a","everyMs":5,"chain":{}})") == "/everyMs");
  BOOST_TEST(at(R"({"name":"a","cron":"* * * * *","tz":"Nowhere/City","chain":{}})") == "/tz");
  BOOST_TEST(at(R"({"name":"a","cron":"* * * * *"})") == "/chain");
  BOOST_TEST(at(R"({"name":"a","cron":"* * * * *","chain":{},"overlap":"queue"})") == "/overlap");
  BOOST_TEST(at(R"({"name":"a","cron":"* * * * *","chain":{},"catchUp":"all"})") == "/catchUp");
  BOOST_TEST(at(R"({"name":"a","cron":"* * * * *","chain":{},"paused":"yes"})") == "/paused");
}

BOOST_AUTO_TEST_SUITE_END()

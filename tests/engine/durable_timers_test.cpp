// Timers are stored as due times (docs/durability.md, "Timers"): a `wait` interrupted by a stop of
// a durable engine ends at its original due time after the restart, not its whole length later; a
// chain with a later start (startAt) is stored at once, `scheduled`, and starts at its time.
#include <thread>

#include "../temp_dir.hpp"
#include "engine_fixture.hpp"
#include "../postgres.hpp"

using namespace coworker;
using namespace coworker::test;

BOOST_AUTO_TEST_SUITE(durable_timers)

BOOST_AUTO_TEST_CASE(a_wait_interrupted_by_a_restart_ends_at_its_original_due_time) {
  temp_dir dir("timers");
  const auto db = test::store_at(dir.file("store.db"));
  constexpr std::int64_t wait_ms = 4000, downtime_ms = 2500;
  const auto chain = json::parse(R"({"operation":"run","children":[
    {"id":"w","operation":"wait","input":{"ms":4000}},{"id":"after","operation":"log","input":"done"}]})");
  std::string id;
  {
    engine first(durable_config(db));
    event_counter started(first, started_step("w"));  // delivered once stored, with its attemptStarted
    auto sub = first.submit(chain);
    BOOST_REQUIRE(sub);
    id = *sub;
    BOOST_REQUIRE(started.wait_for(1));
  }  // stops: the wait is left as stored
  // The daemon is down for a while: that time counts against the wait, as it would for a timer.
  std::this_thread::sleep_for(std::chrono::milliseconds(downtime_ms));
  engine second(durable_config(db));
  BOOST_TEST(second.resume() == 1u);
  auto done = second.wait(id, safety_timeout);
  BOOST_REQUIRE_MESSAGE(done, error_text(done));
  BOOST_TEST(to_string(done->status) == "completed");
  run_record w;
  for (const auto& r : second.list({std::nullopt, id, false, 100}))
    if (r.step_id == "w") w = r;
  BOOST_TEST(w.attempts == 2);  // resumed: a second attempt of the same run
  const auto took = w.finished - w.started;
  BOOST_TEST_MESSAGE("the wait ended " << took << " ms after it first started");
  BOOST_TEST(took >= wait_ms);  // never early
  // Restarted from scratch it would end no sooner than downtime + wait after its start.
  BOOST_TEST(took < downtime_ms + wait_ms - 500);
}

BOOST_AUTO_TEST_CASE(a_scheduled_chain_is_stored_at_once_survives_a_restart_and_starts_at_its_time) {
  temp_dir dir("scheduled");
  const auto db = test::store_at(dir.file("store.db"));
  const auto chain = json::parse(R"({"operation":"run","children":[{"id":"a","operation":"log","input":"ran"}]})");
  std::string id;
  std::int64_t start_at = 0;
  {
    engine first(durable_config(db));
    event_counter scheduled(first, [](const event& e) {
      return e.kind == event_kind::update_run && e.run->status == run_status::scheduled;
    });
    submit_options o;
    start_at = now_ms() + 2000;
    o.start_at = start_at;
    auto sub = first.submit(chain, o);  // returns once stored
    BOOST_REQUIRE(sub);
    id = *sub;
    BOOST_TEST(to_string(first.get(id)->status) == "scheduled");
    BOOST_TEST(first.get(id)->start_at == start_at);
    BOOST_REQUIRE(scheduled.wait_for(1));
  }
  engine second(durable_config(db));
  BOOST_TEST(to_string(second.get(id)->status) == "scheduled");
  BOOST_TEST(second.resume() == 1u);
  auto done = second.wait(id, safety_timeout);
  BOOST_REQUIRE_MESSAGE(done, error_text(done));
  BOOST_TEST(to_string(done->status) == "completed");
  BOOST_TEST(done->started >= start_at);  // never early
  BOOST_TEST(done->start_at == 0);
}

BOOST_FIXTURE_TEST_CASE(a_scheduled_chain_cancelled_before_its_start_ends_cancelled_and_never_runs, engine_fixture) {
  submit_options o;
  o.start_at = now_ms() + 3'600'000;
  auto id = eng.submit(json::parse(R"({"operation":"run","children":[{"id":"a","operation":"fail"}]})"), o);
  BOOST_REQUIRE(id);
  BOOST_TEST(to_string(eng.get(*id)->status) == "scheduled");
  BOOST_TEST(eng.list({run_status::scheduled, "", true, 10}).size() == 1u);
  BOOST_REQUIRE(eng.cancel(*id));
  auto done = eng.wait(*id, safety_timeout);
  BOOST_REQUIRE(done);
  BOOST_TEST(to_string(done->status) == "cancelled");
  BOOST_TEST(done->child_run_ids.empty());
  BOOST_TEST(calls == 0);
}

BOOST_AUTO_TEST_SUITE_END()

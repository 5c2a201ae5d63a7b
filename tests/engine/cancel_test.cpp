// Cancel right after submit (docs/engine.md): a run is in the directory before its id is known,
// so a cancel sent the moment submit returns always reaches it — in memory and durable alike.
#include <condition_variable>
#include <filesystem>

#include "engine_fixture.hpp"
#include "../postgres.hpp"
#include "../temp_dir.hpp"

using namespace coworker;
using namespace coworker::test;

namespace {

json long_chain(int i) {
  // The first step would run for a minute: only a cancel ends the chain soon.
  return json{{"operation", "run"},
              {"input", {{"i", i}}},
              {"children", json::array({json{{"id", "hold"}, {"operation", "wait"}, {"input", {{"ms", 60000}}}},
                                        json{{"id", "after"}, {"operation", "wait"}, {"input", {{"ms", 1}}}}})}};
}

void cancel_each_right_after_submit(engine& eng, int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    auto id = eng.submit(long_chain(i));
    BOOST_REQUIRE(id);
    BOOST_REQUIRE(eng.cancel(*id));
    ids.push_back(*id);
  }
  int cancelled = 0;
  for (const auto& id : ids) {
    auto r = eng.wait(id, std::chrono::seconds(30));
    BOOST_REQUIRE(r);
    cancelled += r->status == run_status::cancelled;
  }
  BOOST_TEST(cancelled == n);  // none completed, none failed
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(cancel, engine_fixture)

BOOST_AUTO_TEST_CASE(cancel_right_after_submit_cancels_every_chain) { cancel_each_right_after_submit(eng, 1000); }

BOOST_AUTO_TEST_CASE(cancel_right_after_a_durable_submit_cancels_every_chain) {
  test::temp_dir dir("cancel");
  {
    auto cfg = make_config();
    cfg.db_path = test::store_at(dir.file("c.db"));
    engine durable(cfg);
    BOOST_REQUIRE(!durable.startup_error());
    cancel_each_right_after_submit(durable, 200);
  }
}

BOOST_AUTO_TEST_CASE(cancel_of_a_step_deep_in_a_chain_fails_only_its_enclosing_chain) {
  std::mutex mu;
  std::condition_variable cv;
  std::string hold_id;
  auto sub = eng.subscribe([&](const event& e) {
    if (e.kind != event_kind::before_run || e.run->step_id != "hold") return;
    std::lock_guard lock(mu);
    hold_id = e.run->id;
    cv.notify_all();
  });
  auto id = eng.submit(json::parse(R"({"operation":"run","children":[
      {"id":"outer","operation":"run","children":[
        {"id":"mid","operation":"run","children":[{"id":"hold","operation":"wait","input":{"ms":60000}}]}],
       "onError":{"operation":"echo","input":"caught {{error.code}}"}},
      {"id":"next","operation":"echo","input":"went on"}]})"));
  BOOST_REQUIRE(id);
  {
    std::unique_lock lock(mu);
    BOOST_REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !hold_id.empty(); }));
  }
  BOOST_REQUIRE(eng.cancel(hold_id));
  auto done = eng.wait(*id, std::chrono::seconds(10));
  BOOST_REQUIRE(done);
  BOOST_TEST(to_string(done->status) == std::string("completed"));
  auto tree = *eng.tree(*id);
  BOOST_TEST(step(tree, "hold")["status"] == "cancelled");
  BOOST_TEST(step(tree, "outer")["recovered"] == true);
  BOOST_TEST(step(tree, "outer")["output"] == "caught cancelled");
  BOOST_TEST(step(tree, "next")["output"] == "went on");
}

BOOST_AUTO_TEST_CASE(cancel_of_an_unknown_run_is_not_found) {
  auto r = eng.cancel("run-nope");
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().code == codes::not_found);
}

BOOST_AUTO_TEST_SUITE_END()

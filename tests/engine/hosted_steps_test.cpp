// Operation steps with an inline_sync handler run hosted in their parent's actor (docs/engine.md,
// "Actors"). What a user sees must not change: each keeps its own record and events; its retry
// waits, cancels and a handler re-registered as asynchronous still reach it.
#include <set>
#include <thread>

#include "engine_fixture.hpp"

using namespace coworker;
using namespace coworker::test;

namespace {

/// True for the update:run event of a run of `step_id` that waits for its retry.
std::function<bool(const event&)> waits_for_retry(std::string step_id) {
  return [id = std::move(step_id)](const event& e) {
    return e.kind == event_kind::update_run && e.run->step_id == id && e.run->retry_at != 0;
  };
}

json retrying(const std::string& op, std::int64_t delay_ms) {
  return json{{"operation", "run"},
              {"children", json::array({json{{"id", "a"},
                                             {"operation", op},
                                             {"input", {{"okAt", 2}}},
                                             {"options", {{"retry", {{"max", 3}, {"delayMs", delay_ms}}}}}},
                                        json{{"id", "after"}, {"operation", "echo"}, {"input", "done"}}})}};
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(hosted_steps, engine_fixture)

BOOST_AUTO_TEST_CASE(each_element_of_an_inline_for_each_has_its_record_and_events) {
  event_counter before(eng, started_step("el"));
  event_counter after(eng, [](const event& e) { return e.kind == event_kind::after_run && e.run->step_id == "el"; });
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"e","forEach":[1,2,3,4,5],"as":"x","do":{"id":"el","operation":"add","input":{"n":"{{x}}"}}}]})"));
  BOOST_REQUIRE(tree["status"] == "completed");
  const auto& e = step(tree, "e");
  BOOST_REQUIRE(e["children"].size() == 5u);
  std::set<std::string> ids;
  for (std::size_t i = 0; i < 5; ++i) {
    const auto& el = e["children"][i];
    BOOST_TEST(el["status"] == "completed");
    BOOST_TEST(el["output"]["n"] == static_cast<int>(i) + 2);
    BOOST_TEST(el["parentRunId"].is_string());
    ids.insert(el["id"].get<std::string>());
  }
  BOOST_TEST(ids.size() == 5u);  // five runs, five ids
  BOOST_TEST(before.wait_for(5));
  BOOST_TEST(after.wait_for(5));
}

BOOST_AUTO_TEST_CASE(a_hosted_step_waiting_for_its_retry_is_cancelled_with_its_chain) {
  event_counter waiting(eng, waits_for_retry("a"));
  auto id = eng.submit(retrying("fail", 600000));  // the retry would come in 10 minutes
  BOOST_REQUIRE(id.has_value());
  BOOST_REQUIRE_MESSAGE(waiting.wait_for(1), "step a never waited for its retry");
  BOOST_REQUIRE(eng.cancel(*id));
  auto tree = ended(eng, id);
  BOOST_TEST(tree["status"] == "cancelled");
  BOOST_TEST(step(tree, "a")["status"] == "cancelled");
  BOOST_TEST(step(tree, "a")["attempts"] == 1);
  BOOST_TEST(find_step(tree, "after") == nullptr);
  BOOST_TEST(eng.list({run_status::running, "", false, 100}).empty());
}

BOOST_AUTO_TEST_CASE(a_hosted_step_cancelled_by_its_run_id_fails_its_chain) {
  std::string a_id;
  std::mutex mu;
  event_counter waiting(eng, [&](const event& e) {
    if (!waits_for_retry("a")(e)) return false;
    std::lock_guard lock(mu);
    a_id = e.run->id;
    return true;
  });
  auto id = eng.submit(retrying("fail", 600000));
  BOOST_REQUIRE(id.has_value());
  BOOST_REQUIRE(waiting.wait_for(1));
  std::string target;
  {
    std::lock_guard lock(mu);
    target = a_id;
  }
  BOOST_REQUIRE(eng.cancel(target));
  auto tree = ended(eng, id);
  BOOST_TEST(step(tree, "a")["status"] == "cancelled");
  BOOST_TEST(tree["status"] == "failed");  // cancelling a step fails its enclosing chain (docs/engine.md)
  BOOST_TEST(find_step(tree, "after") == nullptr);
}

BOOST_AUTO_TEST_CASE(a_hosted_step_retries_on_its_timer) {
  auto tree = run(retrying("flaky", 5));
  BOOST_TEST(tree["status"] == "completed");
  BOOST_TEST(step(tree, "a")["attempts"] == 2);
  BOOST_TEST(step(tree, "after")["output"] == "done");
}

BOOST_AUTO_TEST_CASE(a_handler_made_asynchronous_during_the_retry_wait_answers_the_hosted_step) {
  // "switch" is inline (so the step is hosted) and fails its first attempt; during the retry wait
  // it is registered again as an asynchronous handler that answers from another thread.
  BOOST_REQUIRE(eng.register_operation("switch", [](const op_request&) -> expected<json> {
    return make_error("first", "the inline handler fails");
  }));
  event_counter waiting(eng, waits_for_retry("a"));
  auto id = eng.submit(retrying("switch", 200));
  BOOST_REQUIRE(id.has_value());
  BOOST_REQUIRE(waiting.wait_for(1));
  operation later;
  later.name = "switch";
  later.mode = handler_mode::async;
  later.async = [](const op_request& r, responder resp) {
    std::thread([resp, attempt = r.attempt] { resp.ok(json{{"asyncAttempt", attempt}}); }).detach();
  };
  BOOST_REQUIRE(eng.register_operation(std::move(later)));
  auto tree = ended(eng, id);
  BOOST_TEST(tree["status"] == "completed");
  BOOST_TEST(step(tree, "a")["output"]["asyncAttempt"] == 2);
  BOOST_TEST(step(tree, "after")["output"] == "done");
}

BOOST_AUTO_TEST_CASE(an_inline_step_with_on_error_keeps_its_fallback_as_a_child) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"e","forEach":[1,2],"as":"x","do":{"id":"el","operation":"fail",
        "onError":{"id":"fb","operation":"echo","input":"caught {{x}}"}}}]})"));
  BOOST_TEST(tree["status"] == "completed");
  for (const auto& el : step(tree, "e")["children"]) {
    BOOST_TEST(el["recovered"] == true);
    BOOST_TEST(el["childRunIds"].size() == 1u);
  }
}

BOOST_AUTO_TEST_SUITE_END()

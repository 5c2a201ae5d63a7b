// Failures: onError, retry, timeout, fail-fast, cancellation, handlers that throw or never answer.
#include "engine_fixture.hpp"

using namespace coworker;
using namespace coworker::test;

BOOST_FIXTURE_TEST_SUITE(failures, engine_fixture)

BOOST_AUTO_TEST_CASE(unrecovered_failure_stops_the_chain) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"a","operation":"echo","input":1},{"id":"b","operation":"fail"},{"id":"c","operation":"echo"}]})"));
  BOOST_TEST(tree["status"] == "failed");
  BOOST_TEST(tree["success"] == false);
  BOOST_TEST(tree["error"]["code"] == "boom");
  BOOST_TEST(step(tree, "b")["error"]["runId"] == step(tree, "b")["id"]);
  BOOST_TEST(find_step(tree, "c") == nullptr);  // remaining children get no run at all
}

BOOST_AUTO_TEST_CASE(on_error_recovers_and_replaces_the_output) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"a","operation":"fail","input":{"code":"no_destination"},
       "onError":{"id":"fb","operation":"echo","input":{"handled":"{{error.code}}","failedRun":"{{prev.id}}"}}},
      {"id":"next","operation":"echo"}]})"));
  BOOST_TEST(tree["status"] == "completed");
  const auto& a = step(tree, "a");
  BOOST_TEST(a["status"] == "failed");
  BOOST_TEST(a["recovered"] == true);
  BOOST_TEST(a["error"]["code"] == "no_destination");
  BOOST_TEST(a["output"]["handled"] == "no_destination");
  BOOST_TEST(a["output"]["failedRun"] == a["id"]);
  BOOST_TEST(step(tree, "next")["input"] == a["output"]);
  BOOST_TEST(a["childRunIds"].size() == 1u);  // the fallback run hangs under the failed run
}

BOOST_AUTO_TEST_CASE(on_error_inside_on_error_propagates_like_try_catch) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"outer","operation":"run",
       "onError":{"id":"outerFb","operation":"echo","input":{"caught":"{{error.code}}"}},
       "children":[
          {"id":"a","operation":"fail","input":{"code":"first"},
           "onError":{"id":"fb1","operation":"fail","input":{"code":"second"},
                      "onError":{"id":"fb2","operation":"fail","input":{"code":"third"}}}}]}]})"));
  BOOST_TEST(tree["status"] == "completed");
  BOOST_TEST(step(tree, "fb2")["status"] == "failed");
  BOOST_TEST(step(tree, "fb1")["status"] == "failed");
  BOOST_TEST(step(tree, "fb1")["recovered"] == false);
  BOOST_TEST(step(tree, "a")["recovered"] == false);
  const auto& outer = step(tree, "outer");
  BOOST_TEST(outer["status"] == "failed");
  BOOST_TEST(outer["recovered"] == true);
  BOOST_TEST(outer["output"]["caught"] == "first");
}

BOOST_AUTO_TEST_CASE(recovered_inner_fallback_recovers_the_step) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"a","operation":"fail","onError":{"id":"fb1","operation":"fail",
          "onError":{"id":"fb2","operation":"echo","input":"ok"}}}]})"));
  BOOST_TEST(tree["status"] == "completed");
  BOOST_TEST(step(tree, "fb1")["recovered"] == true);
  BOOST_TEST(step(tree, "a")["recovered"] == true);
  BOOST_TEST(step(tree, "a")["output"] == "ok");
}

BOOST_AUTO_TEST_CASE(retry_counts_attempts_until_success) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"a","operation":"flaky","input":{"okAt":3},"options":{"retry":{"max":5,"delayMs":5,"backoff":2}}}]})"));
  BOOST_TEST(tree["status"] == "completed");
  BOOST_TEST(step(tree, "a")["attempts"] == 3);
  BOOST_TEST(step(tree, "a")["output"]["attempt"] == 3);
}

BOOST_AUTO_TEST_CASE(retry_gives_up_after_max_plus_one_attempts) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"a","operation":"fail","options":{"retry":{"max":2,"delayMs":1,"jitter":true}}}]})"));
  BOOST_TEST(step(tree, "a")["attempts"] == 3);
  BOOST_TEST(calls.load() == 3);
  BOOST_TEST(tree["status"] == "failed");
}

BOOST_AUTO_TEST_CASE(retry_on_limits_retries_to_listed_codes) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"a","operation":"fail","input":{"code":"fatal"},
       "options":{"retry":{"max":4,"delayMs":1,"retryOn":["timeout"]}}}]})"));
  BOOST_TEST(step(tree, "a")["attempts"] == 1);
}

BOOST_AUTO_TEST_CASE(retry_applies_to_a_nested_chain) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"inner","operation":"run","options":{"retry":{"max":1,"delayMs":1}},
       "children":[{"id":"x","operation":"fail"}]}]})"));
  const auto& inner = step(tree, "inner");
  BOOST_TEST(inner["attempts"] == 2);
  BOOST_TEST(inner["childRunIds"].size() == 2u);  // one run of x per attempt
  BOOST_TEST(calls.load() == 2);
}

BOOST_AUTO_TEST_CASE(timeout_fails_the_attempt_with_code_timeout) {
  // `hold` returns only once the test releases it, after the run has ended: a run that waited for
  // its handler instead of timing out would never end (run() fails at the safety timeout).
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"slow","operation":"hold","options":{"timeoutMs":50}}]})"));
  BOOST_TEST(tree["status"] == "failed");
  BOOST_TEST(step(tree, "slow")["error"]["code"] == "timeout");
  release->open();
}

BOOST_AUTO_TEST_CASE(timeout_applies_to_a_group_and_cancels_its_members) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"g","parallel":["a","b"],"options":{"timeoutMs":50},"operations":[
          {"id":"a","operation":"wait","input":{"ms":5000}},{"id":"b","operation":"wait","input":{"ms":5000}}]}]})"));
  BOOST_TEST(step(tree, "g")["error"]["code"] == "timeout");
  BOOST_TEST(step(tree, "a")["status"] == "cancelled");
  BOOST_TEST(step(tree, "b")["status"] == "cancelled");
}

BOOST_AUTO_TEST_CASE(handler_that_never_answers_ends_by_timeout_and_retry) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"n","operation":"never","options":{"timeoutMs":30,"retry":{"max":1,"delayMs":1}}}]})"));
  BOOST_TEST(step(tree, "n")["status"] == "failed");
  BOOST_TEST(step(tree, "n")["error"]["code"] == "timeout");
  BOOST_TEST(step(tree, "n")["attempts"] == 2);
}

BOOST_AUTO_TEST_CASE(handler_that_throws_fails_its_run_only) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"t","operation":"throw","onError":{"operation":"echo","input":"{{error.message}}"}},
      {"id":"after","operation":"echo"}]})"));
  BOOST_TEST(tree["status"] == "completed");
  BOOST_TEST(step(tree, "t")["error"]["code"] == "handler_error");
  BOOST_TEST(step(tree, "t")["output"].get<std::string>().find("handler exploded") != std::string::npos);
  // The engine keeps serving.
  BOOST_TEST(run(json::parse(R"({"operation":"run","children":[{"operation":"echo","input":1}]})"))["status"] ==
             "completed");
}

BOOST_AUTO_TEST_CASE(fail_fast_group_cancels_the_other_members) {
  // `slow` returns only once the test releases it, after the run has ended: the group must end
  // without waiting for it.
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"g","parallel":["bad","slow"],"operations":[
          {"id":"bad","operation":"fail"},{"id":"slow","operation":"hold"}]}]})"));
  BOOST_TEST(step(tree, "g")["status"] == "failed");
  BOOST_TEST(step(tree, "g")["error"]["code"] == "boom");
  BOOST_TEST(step(tree, "slow")["status"] == "cancelled");
  BOOST_TEST(tree["status"] == "failed");
  release->open();
}

BOOST_AUTO_TEST_CASE(fail_fast_false_waits_for_every_member) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"g","parallel":["bad","slow"],"options":{"failFast":false},"operations":[
          {"id":"bad","operation":"fail"},{"id":"slow","operation":"wait","input":{"ms":100}}]}]})"));
  BOOST_TEST(step(tree, "g")["status"] == "failed");
  BOOST_TEST(step(tree, "slow")["status"] == "completed");
}

BOOST_AUTO_TEST_CASE(member_with_its_own_on_error_does_not_fail_the_group) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"g","parallel":["bad","ok"],"operations":[
          {"id":"bad","operation":"fail","onError":{"operation":"echo","input":"fixed"}},
          {"id":"ok","operation":"echo","input":1}]}]})"));
  BOOST_TEST(step(tree, "g")["status"] == "completed");
  BOOST_TEST(step(tree, "g")["output"]["bad"] == "fixed");
}

BOOST_AUTO_TEST_CASE(if_on_a_group_and_a_for_each_skips_them) {
  auto tree = run(json::parse(R"({"operation":"run","input":{"n":0},"children":[
      {"id":"g","if":"{{input.n}} > 0","parallel":["a"],"operations":[{"id":"a","operation":"echo"}]},
      {"id":"e","if":false,"forEach":"{{input}}","as":"x","do":{"operation":"echo"}},
      {"id":"c","operation":"run","if":"{{input.n}} == 0","children":[{"id":"in","operation":"echo"}]}]})"));
  BOOST_TEST(step(tree, "g")["status"] == "skipped");
  BOOST_TEST(step(tree, "e")["status"] == "skipped");
  BOOST_TEST(find_step(tree, "a") == nullptr);
  BOOST_TEST(step(tree, "c")["status"] == "completed");
}

BOOST_AUTO_TEST_CASE(cancel_stops_a_deep_tree_and_leaves_nothing_running) {
  event_counter waits_started(eng, [](const event& e) {
    return e.kind == event_kind::before_run && e.run->operation == "wait";
  });
  // The waits cannot end on their own while the test runs: only the cancel ends them.
  auto id = eng.submit(json::parse(R"({"operation":"run","children":[
      {"id":"l1","operation":"run","children":[
        {"id":"l2","operation":"run","children":[
          {"id":"g","parallel":["a","b"],"operations":[
             {"id":"a","operation":"run","children":[{"id":"w1","operation":"wait","input":{"ms":600000}}]},
             {"id":"b","forEach":[1,2,3],"as":"x","do":{"operation":"wait","input":{"ms":600000}}}]}]}]},
      {"id":"never","operation":"echo"}]})"));
  BOOST_REQUIRE(id.has_value());
  // Every wait, the deepest included, has started (its before:run event) before the cancel.
  BOOST_REQUIRE_MESSAGE(waits_started.wait_for(4), "only " << waits_started.count() << " of 4 waits started");
  BOOST_REQUIRE(eng.cancel(*id));
  auto done = eng.wait(*id, safety_timeout);
  BOOST_REQUIRE_MESSAGE(done.has_value(), "the cancelled chain did not end: " << error_text(done));
  BOOST_TEST(to_string(done->status) == "cancelled");
  auto tree = *eng.tree(*id);
  int n = 0;
  each_run(tree, [&](const json& r) {
    ++n;
    BOOST_TEST(r["status"] == "cancelled");
  });
  BOOST_TEST(n == 10);  // chain, l1, l2, g, a, w1, b and its three elements
  BOOST_TEST(find_step(tree, "never") == nullptr);
  BOOST_TEST(eng.list({run_status::running, "", false, 1000}).empty());
}

BOOST_AUTO_TEST_CASE(on_error_retry_and_timeout_work_on_every_step_form) {
  auto tree = run(json::parse(R"({"operation":"run","input":{"items":[1,2]},"children":[
      {"id":"g","parallel":["m"],"operations":[{"id":"m","operation":"fail"}],
       "onError":{"operation":"echo","input":"group-recovered"}},
      {"id":"e","forEach":"{{input.items}}","as":"x","do":{"operation":"fail"},
       "options":{"retry":{"max":1,"delayMs":1}},
       "onError":{"operation":"echo","input":"each-recovered:{{error.code}}"}},
      {"id":"c","operation":"run","options":{"timeoutMs":40},"children":[{"operation":"wait","input":{"ms":5000}}],
       "onError":{"operation":"echo","input":"{{error.code}}"}},
      {"id":"f","forEach":[1],"as":"x","options":{"timeoutMs":40},"do":{"operation":"wait","input":{"ms":5000}}}]})"));
  BOOST_TEST(step(tree, "g")["recovered"] == true);
  BOOST_TEST(step(tree, "g")["output"] == "group-recovered");
  BOOST_TEST(step(tree, "e")["attempts"] == 2);
  BOOST_TEST(step(tree, "e")["output"] == "each-recovered:boom");
  BOOST_TEST(step(tree, "c")["output"] == "timeout");
  BOOST_TEST(step(tree, "f")["error"]["code"] == "timeout");
  BOOST_TEST(tree["status"] == "failed");
}

BOOST_AUTO_TEST_CASE(cancel_of_unknown_run_is_not_found) {
  auto r = eng.cancel("run-nope");
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == "not_found");
}

BOOST_AUTO_TEST_CASE(invalid_chain_starts_nothing) {
  auto r = eng.submit(json::parse(R"({"operation":"run","children":[{"id":"a","operation":"nope"}]})"));
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == "unknown_operation");
  BOOST_TEST(r.error().path == "/children/0/operation");
  BOOST_TEST(eng.list({}).empty());
}

BOOST_AUTO_TEST_SUITE_END()

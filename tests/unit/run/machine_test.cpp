// The rules of a run's life (docs/chain-language.md, docs/engine.md "How a run goes"), checked on
// run::machine through the deterministic simulator: no threads, no sleeps, a clock that moves only
// when the test moves it. Each case is named <condition>_<outcome>.
#include <algorithm>

#include <boost/test/unit_test.hpp>

#include "simulator.hpp"

using namespace coworker;
using sim::simulator;

namespace {

expected<json> failure(const std::string& code, const std::string& message = "it broke") {
  return make_error(code, message);
}

/// An operation step named `op` inside a chain, with `extra` merged into the step.
std::string chain_of(const std::string& step) { return R"({"operation":"run","children":[)" + step + "]}"; }

}  // namespace

BOOST_AUTO_TEST_SUITE(run_machine)

// --- one operation ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(operation_answering_completes_with_its_output) {
  simulator s;
  s.answer = [](const op_request& r) -> std::optional<expected<json>> { return json{{"got", r.in()}}; };
  auto top = s.submit(chain_of(R"({"id":"a","operation":"op","input":{"x":1}})"));
  const auto& a = s.rec(s.run_of("a"));
  BOOST_TEST(to_string(a.status) == "completed");
  BOOST_TEST(a.success);
  BOOST_TEST(deref(a.output).dump() == R"({"got":{"x":1}})");
  BOOST_TEST(a.attempts == 1);
  BOOST_TEST(a.parent_run_id == top);  // the first step's parentRunId is its chain
  BOOST_TEST(a.owner_run_id == top);
  const auto& c = s.rec(top);
  BOOST_TEST(to_string(c.status) == "completed");
  BOOST_TEST(deref(c.output)["last"].dump() == R"({"got":{"x":1}})");
  BOOST_TEST(c.child_run_ids == std::vector<std::string>{a.id});
}

BOOST_AUTO_TEST_CASE(unserved_operation_fails_unknown_operation) {
  simulator s;
  s.unknown_ops = {"gone"};
  s.submit(chain_of(R"({"id":"a","operation":"gone"})"));
  const auto& a = s.rec(s.run_of("a"));
  BOOST_TEST(to_string(a.status) == "failed");
  BOOST_TEST(a.err->code == codes::unknown_operation);
}

BOOST_AUTO_TEST_CASE(output_over_value_limit_fails_too_large) {
  limits lim;
  lim.max_value_bytes = 100;
  simulator s(lim);
  s.answer = [](const op_request&) -> std::optional<expected<json>> { return json(std::string(500, 'x')); };
  s.submit(chain_of(R"({"id":"a","operation":"op"})"));
  BOOST_TEST(s.rec(s.run_of("a")).err->code == codes::too_large);
}

BOOST_AUTO_TEST_CASE(step_without_timeout_gets_the_default_step_timeout) {
  limits lim;
  lim.step_timeout_ms = 5000;
  simulator s(lim);
  s.answer = [](const op_request&) { return std::optional<expected<json>>{}; };  // never answers
  s.submit(chain_of(R"({"id":"a","operation":"op"})"));
  auto a = s.run_of("a");
  BOOST_TEST(s.calls.front().request.deadline == s.now + 5000);  // the handler sees its deadline
  s.advance(4999);
  BOOST_TEST(to_string(s.rec(a).status) == "running");
  s.advance(1);
  BOOST_TEST(to_string(s.rec(a).status) == "failed");
  BOOST_TEST(s.rec(a).err->code == codes::timeout);
  BOOST_TEST(s.rec(a).err->message == "step 'a' timed out after 5000 ms");
  BOOST_TEST(s.released == 1);  // the handler's answer is no longer wanted
}

// --- await ---------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(await_step_publishes_waiting_then_completes_with_the_signal) {
  simulator s;
  s.answer = [](const op_request&) { return std::optional<expected<json>>{}; };  // the signal comes later
  auto top = s.submit(chain_of(R"({"id":"ok","operation":"await","input":{"key":"k"}},
                                   {"id":"next","operation":"op","input":"{{ok.output.yes}}"})"));
  auto a = s.run_of("ok");
  BOOST_TEST(to_string(s.rec(a).status) == "waiting");
  BOOST_TEST(to_string(s.rec(top).status) == "running");  // its chain stays running
  // The record says waiting once the call is out (whoever sees it can signal the step).
  auto started = std::find(s.trace.begin(), s.trace.end(), a + " started");
  auto waiting = std::find(s.trace.begin(), s.trace.end(), a + " waiting");
  auto called = std::find(s.trace.begin(), s.trace.end(), a + " call await #1");
  BOOST_TEST((started < called && called < waiting && waiting != s.trace.end()));
  s.answer = [](const op_request& r) -> std::optional<expected<json>> { return r.in(); };
  s.reply(a, json{{"yes", true}});
  BOOST_TEST(to_string(s.rec(a).status) == "completed");
  BOOST_TEST(deref(s.rec(a).output).dump() == R"({"yes":true})");
  BOOST_TEST(deref(s.rec(s.run_of("next")).input).dump() == "true");
  BOOST_TEST(to_string(s.rec(top).status) == "completed");
}

BOOST_AUTO_TEST_CASE(await_step_without_timeout_times_out_after_the_signal_keep_time_into_on_error) {
  limits lim;
  lim.signal_keep_ms = 7000;
  lim.step_timeout_ms = 1000;  // not the await's: it waits for people
  simulator s(lim);
  s.answer = [](const op_request& r) -> std::optional<expected<json>> {
    if (r.operation == "await") return std::nullopt;
    return r.in();
  };
  s.submit(chain_of(R"({"id":"ok","operation":"await","input":{"key":"k"},
                        "onError":{"id":"late","operation":"op","input":"{{error.code}}"}})"));
  auto a = s.run_of("ok");
  s.advance(6999);
  BOOST_TEST(to_string(s.rec(a).status) == "waiting");
  s.advance(1);
  BOOST_TEST(to_string(s.rec(a).status) == "failed");
  BOOST_TEST(s.rec(a).err->code == codes::timeout);
  BOOST_TEST(s.rec(a).recovered);
  BOOST_TEST(deref(s.rec(s.run_of("late")).output).dump() == R"("timeout")");
}

BOOST_AUTO_TEST_CASE(await_step_retried_after_a_timeout_runs_while_it_waits_for_the_retry_then_waits_again) {
  simulator s;
  s.answer = [](const op_request&) { return std::optional<expected<json>>{}; };
  s.submit(chain_of(R"({"id":"ok","operation":"await","input":{"key":"k"},
                        "options":{"timeoutMs":1000,"retry":{"max":1,"delayMs":500,"retryOn":["timeout"]}}})"));
  auto a = s.run_of("ok");
  BOOST_TEST(to_string(s.rec(a).status) == "waiting");
  s.advance(1000);
  BOOST_TEST(to_string(s.rec(a).status) == "running");  // waiting for the retry, not for a signal
  BOOST_TEST(s.rec(a).retry_at == s.now + 500);
  s.advance(500);
  BOOST_TEST(to_string(s.rec(a).status) == "waiting");
  BOOST_TEST(s.rec(a).attempts == 2);
}

// --- retry --------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(always_failing_with_retry_max_2_runs_three_attempts_with_growing_delays) {
  simulator s;
  s.answer = [](const op_request&) -> std::optional<expected<json>> { return failure("flaky"); };
  s.submit(chain_of(R"({"id":"a","operation":"op","options":{"retry":{"max":2,"delayMs":100,"backoff":3}}})"));
  auto a = s.run_of("a");
  BOOST_TEST(to_string(s.rec(a).status) == "running");  // waiting for the first retry
  s.advance(99);
  BOOST_TEST(s.rec(a).attempts == 1);
  BOOST_TEST(s.rec(a).retry_at == s.now + 1);  // published with the retry's time
  s.advance(1);
  BOOST_TEST(s.rec(a).attempts == 2);  // the retry's start is published too (a restart resumes it)
  BOOST_TEST(s.rec(a).retry_at == s.now + 300);  // it failed again: waiting for the second retry
  s.run_timers();
  BOOST_TEST(to_string(s.rec(a).status) == "failed");
  BOOST_TEST(s.rec(a).attempts == 3);
  BOOST_TEST(s.rec(a).err->code == "flaky");
  BOOST_TEST(s.timer_delays(run::timer::retry) == (std::vector<std::int64_t>{100, 300}));
}

BOOST_AUTO_TEST_CASE(failing_once_then_answering_completes_on_attempt_two) {
  simulator s;
  int calls = 0;
  s.answer = [&](const op_request& r) -> std::optional<expected<json>> {
    BOOST_TEST(r.attempt == calls + 1);  // the handler sees which attempt it serves
    if (++calls == 1) return failure("flaky");
    return json("ok");
  };
  s.submit(chain_of(R"({"id":"a","operation":"op","options":{"retry":{"max":3,"delayMs":50}}})"));
  s.run_timers();
  const auto& a = s.rec(s.run_of("a"));
  BOOST_TEST(to_string(a.status) == "completed");
  BOOST_TEST(a.attempts == 2);
  BOOST_TEST(!a.err);
}

BOOST_AUTO_TEST_CASE(retry_on_other_codes_fails_at_once) {
  simulator s;
  s.answer = [](const op_request&) -> std::optional<expected<json>> { return failure("bad_input"); };
  s.submit(chain_of(R"({"id":"a","operation":"op","options":{"retry":{"max":5,"retryOn":["timeout"]}}})"));
  const auto& a = s.rec(s.run_of("a"));
  BOOST_TEST(to_string(a.status) == "failed");
  BOOST_TEST(a.attempts == 1);
  BOOST_TEST(s.timer_delays(run::timer::retry).empty());
}

BOOST_AUTO_TEST_CASE(jitter_with_the_same_seed_gives_the_same_delays_within_the_backoff) {
  auto delays = [](std::uint64_t seed) {
    simulator s;
    s.answer = [](const op_request&) -> std::optional<expected<json>> { return failure("flaky"); };
    s.submit(chain_of(R"({"id":"a","operation":"op",
                          "options":{"retry":{"max":6,"delayMs":1000,"backoff":2,"maxDelayMs":100000,"jitter":true}}})"),
             seed);
    s.run_timers();
    BOOST_TEST(s.rec(s.run_of("a")).attempts == 7);
    return s.timer_delays(run::timer::retry);
  };
  auto first = delays(7);
  BOOST_TEST(first == delays(7));  // seeded: the same every time
  BOOST_TEST(first != delays(8));
  BOOST_REQUIRE(first.size() == 6u);
  for (std::size_t n = 0; n < first.size(); ++n) {
    BOOST_TEST(first[n] >= 0);
    BOOST_TEST(first[n] < (1000 << n));  // full jitter: uniform below delayMs × backoff^n
  }
}

BOOST_AUTO_TEST_CASE(late_answer_of_a_timed_out_attempt_is_ignored) {
  simulator s;
  s.answer = [](const op_request&) { return std::optional<expected<json>>{}; };
  s.submit(chain_of(R"({"id":"a","operation":"op","options":{"timeoutMs":100,"retry":{"max":1,"delayMs":10}}})"));
  auto a = s.run_of("a");
  s.advance(100);  // attempt 1 times out
  s.advance(10);   // attempt 2 starts
  BOOST_TEST(s.calls.size() == 1u);
  s.late_reply(a, 1, json("late"));
  BOOST_TEST(to_string(s.rec(a).status) == "running");
  s.reply(a, json("fresh"));
  BOOST_TEST(to_string(s.rec(a).status) == "completed");
  BOOST_TEST(deref(s.rec(a).output).get<std::string>() == "fresh");
  BOOST_TEST(s.rec(a).attempts == 2);
}

BOOST_AUTO_TEST_CASE(lost_worker_while_still_served_runs_a_new_attempt_outside_retry) {
  simulator s;
  s.answer = [](const op_request&) { return std::optional<expected<json>>{}; };
  s.submit(chain_of(R"({"id":"a","operation":"op"})"));
  auto a = s.run_of("a");
  for (int i = 0; i < max_worker_losses; ++i) {
    s.reply(a, failure(codes::worker_lost));
    BOOST_TEST_REQUIRE(to_string(s.rec(a).status) == "running");
  }
  s.reply(a, failure(codes::worker_lost));  // one loss too many
  BOOST_TEST(to_string(s.rec(a).status) == "failed");
  BOOST_TEST(s.rec(a).err->code == codes::worker_lost);
  BOOST_TEST(s.rec(a).attempts == max_worker_losses + 1);
}

// --- onError ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(fallback_succeeding_leaves_the_step_failed_recovered_and_the_chain_going_on) {
  simulator s;
  s.answer = [](const op_request& r) -> std::optional<expected<json>> {
    if (r.operation == "bad") return failure("broken", "no luck");
    return r.in();
  };
  auto top = s.submit(chain_of(R"({"id":"a","operation":"bad","onError":{"id":"fb","operation":"echo",
                                     "input":{"code":"{{error.code}}","failed":"{{prev.status}}","own":"{{a.error.message}}"}}},
                                   {"id":"b","operation":"echo"})"));
  const auto& a = s.rec(s.run_of("a"));
  const auto& fb = s.rec(s.run_of("fb"));
  BOOST_TEST(to_string(a.status) == "failed");
  BOOST_TEST(a.recovered);
  BOOST_TEST(a.err->code == "broken");
  BOOST_TEST(fb.owner_run_id == a.id);  // the fallback is a child of the failed run
  BOOST_TEST(fb.parent_run_id == a.id);
  BOOST_TEST(a.child_run_ids == std::vector<std::string>{fb.id});
  BOOST_TEST(deref(fb.output).dump() == R"({"code":"broken","failed":"failed","own":"no luck"})");
  BOOST_TEST(deref(a.output) == deref(fb.output));  // the recovered run carries the fallback's output
  BOOST_TEST(deref(s.rec(s.run_of("b")).input) == deref(fb.output));  // and pipes it on
  BOOST_TEST(to_string(s.rec(top).status) == "completed");
}

BOOST_AUTO_TEST_CASE(fallback_failing_fails_the_chain_with_the_steps_own_error) {
  simulator s;
  s.answer = [](const op_request& r) -> std::optional<expected<json>> { return failure(r.operation + "_failed"); };
  auto top = s.submit(chain_of(R"({"id":"a","operation":"bad","onError":{"id":"fb","operation":"worse"}},
                                   {"id":"b","operation":"never"})"));
  BOOST_TEST(!s.rec(s.run_of("a")).recovered);
  BOOST_TEST(s.rec(s.run_of("fb")).err->code == "worse_failed");
  BOOST_TEST(s.runs_of("b").empty());  // a chain stops at its first unrecovered failure
  BOOST_TEST(to_string(s.rec(top).status) == "failed");
  BOOST_TEST(s.rec(top).err->code == "bad_failed");
}

BOOST_AUTO_TEST_CASE(broken_condition_runs_the_fallback_without_retrying) {
  simulator s;
  s.submit(chain_of(R"({"id":"a","operation":"op","input":{"n":1}},
                       {"id":"b","operation":"op","if":"{{a.output.n.nope}} > 1",
                        "options":{"retry":{"max":3}},"onError":{"id":"fb","operation":"op"}})"));
  const auto& b = s.rec(s.run_of("b"));
  BOOST_TEST(to_string(b.status) == "failed");
  BOOST_TEST(b.err->code == codes::template_error);
  BOOST_TEST(b.recovered);
  BOOST_TEST(s.timer_delays(run::timer::retry).empty());
}

// --- if and the pipe ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(skipped_step_is_transparent_to_prev_and_the_pipe) {
  simulator s;
  s.submit(chain_of(R"({"id":"a","operation":"op","input":"from a"},
                       {"id":"b","operation":"op","input":"from b","if":false},
                       {"id":"c","operation":"op"},
                       {"id":"d","operation":"op","input":{"prev":"{{prev.stepId}}"}})"));
  const auto& b = s.rec(s.run_of("b"));
  BOOST_TEST(to_string(b.status) == "skipped");
  BOOST_TEST(b.attempts == 0);
  BOOST_TEST(b.started == 0);  // a skipped step never started: only its end is published
  BOOST_TEST(deref(s.rec(s.run_of("c")).input).get<std::string>() == "from a");
  BOOST_TEST(deref(s.rec(s.run_of("d")).input).dump() == R"({"prev":"c"})");
  // parentRunId counts the skipped step: it is the run before this one in the flow.
  BOOST_TEST(s.rec(s.run_of("c")).parent_run_id == b.id);
}

// --- parallel groups ----------------------------------------------------------------------------

struct group_case {
  const char* name;
  bool fail_fast;
  const char* others_end;  ///< the status of the members still running when one fails
};

BOOST_AUTO_TEST_CASE(member_failure_fails_the_group_cancelling_or_awaiting_the_others) {
  for (const auto& gc : {group_case{"fail-fast", true, "cancelled"}, group_case{"wait-all", false, "completed"}}) {
    BOOST_TEST_CONTEXT(gc.name) {
      simulator s;
      s.answer = [](const op_request&) { return std::optional<expected<json>>{}; };
      auto top = s.submit(chain_of(std::string(R"({"id":"g","parallel":["x","y","z"],"options":{"failFast":)") +
                                   (gc.fail_fast ? "true" : "false") + R"(},"operations":[
                                     {"id":"x","operation":"op"},{"id":"y","operation":"op"},{"id":"z","operation":"op"}]})"));
      BOOST_TEST(s.calls.size() == 3u);  // the members run at once
      s.reply(s.run_of("y"), failure("y_broke"));
      if (!gc.fail_fast) {
        BOOST_TEST(to_string(s.rec(s.run_of("g")).status) == "running");
        s.reply(s.run_of("x"), json(1));
        s.reply(s.run_of("z"), json(3));
      }
      BOOST_TEST(to_string(s.rec(s.run_of("x")).status) == gc.others_end);
      BOOST_TEST(to_string(s.rec(s.run_of("z")).status) == gc.others_end);
      const auto& g = s.rec(s.run_of("g"));
      BOOST_TEST(to_string(g.status) == "failed");
      BOOST_TEST(g.err->code == "y_broke");
      BOOST_TEST(to_string(s.rec(top).status) == "failed");
    }
  }
}

BOOST_AUTO_TEST_CASE(members_completing_give_an_output_keyed_by_member_id) {
  simulator s;
  auto top = s.submit(chain_of(R"({"id":"start","operation":"op","input":5},
                                  {"id":"g","parallel":["x","y"],"operations":[
                                     {"id":"x","operation":"op"},{"id":"y","operation":"op","input":"{{prev.output}}"}]},
                                  {"id":"after","operation":"op","input":"{{x.output}}"})"));
  const auto& g = s.rec(s.run_of("g"));
  BOOST_TEST(deref(g.output).dump() == R"({"x":5,"y":5})");
  BOOST_TEST(s.rec(s.run_of("x")).parent_run_id == s.run_of("start"));  // members follow the run before the group
  BOOST_TEST(deref(s.rec(s.run_of("after")).input).get<int>() == 5);  // members are visible after the group
  BOOST_TEST(to_string(s.rec(top).status) == "completed");
}

// --- forEach ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(concurrency_two_keeps_two_elements_in_flight_and_keeps_item_order) {
  simulator s;
  s.answer = [](const op_request&) { return std::optional<expected<json>>{}; };
  s.submit(chain_of(R"({"id":"each","forEach":[1,2,3,4,5],"as":"n","options":{"concurrency":2},
                        "do":{"id":"sq","operation":"op","input":"{{n}}"}})"));
  std::vector<int> started;
  while (!s.calls.empty()) {
    BOOST_TEST(s.calls.size() <= 2u);
    // Answer the newest first, so that elements end out of order.
    auto c = s.calls.back();
    started.push_back(c.request.in().get<int>());
    s.reply(c.run_id, json(c.request.in().get<int>() * 10));
  }
  BOOST_TEST(started.size() == 5u);
  BOOST_TEST(deref(s.rec(s.run_of("each")).output).dump() == "[10,20,30,40,50]");
}

BOOST_AUTO_TEST_CASE(element_width_over_the_limit_fails_too_large_before_any_element_runs) {
  limits lim;
  lim.max_chain_elements = 6;
  simulator s(lim);
  s.submit(chain_of(R"({"id":"g","parallel":["p","q"],"operations":[
                         {"id":"p","forEach":[1,2,3,4],"as":"n","do":{"operation":"op"}},
                         {"id":"q","operation":"op"}]})"));
  const auto& p = s.rec(s.run_of("p"));  // 2 members × 4 elements = 8 > 6
  BOOST_TEST(to_string(p.status) == "failed");
  BOOST_TEST(p.err->code == codes::too_large);
  BOOST_TEST(p.err->path == "/children/0/operations/0/forEach");
  BOOST_TEST(p.child_run_ids.empty());
}

BOOST_AUTO_TEST_CASE(element_width_within_the_limit_with_concurrency_runs) {
  limits lim;
  lim.max_chain_elements = 6;
  simulator s(lim);
  s.submit(chain_of(R"({"id":"g","parallel":["p","q"],"operations":[
                         {"id":"p","forEach":[1,2,3,4],"as":"n","options":{"concurrency":3},"do":{"operation":"op"}},
                         {"id":"q","operation":"op"}]})"));
  BOOST_TEST(to_string(s.rec(s.run_of("p")).status) == "completed");  // 2 × 3 = 6
}

BOOST_AUTO_TEST_CASE(forEach_over_a_non_array_fails_invalid_input_and_over_nothing_completes_empty) {
  simulator s;
  s.submit(chain_of(R"({"id":"a","operation":"op","input":{"list":[],"text":"x"}},
                       {"id":"none","forEach":"{{a.output.list}}","as":"n","do":{"operation":"op"}},
                       {"id":"bad","forEach":"{{a.output.text}}","as":"n","do":{"operation":"op"}})"));
  BOOST_TEST(deref(s.rec(s.run_of("none")).output).dump() == "[]");
  const auto& bad = s.rec(s.run_of("bad"));
  BOOST_TEST(bad.err->code == codes::invalid_input);
  BOOST_TEST(bad.err->path == "/children/2/forEach");
}

BOOST_AUTO_TEST_CASE(failing_element_cancels_the_others_in_flight) {
  simulator s;
  s.answer = [](const op_request&) { return std::optional<expected<json>>{}; };
  s.submit(chain_of(R"({"id":"each","forEach":[1,2,3],"as":"n","do":{"operation":"op"}})"));
  BOOST_REQUIRE(s.calls.size() == 3u);
  auto second = s.calls[1].run_id;
  s.reply(second, failure("element_broke"));
  BOOST_TEST(to_string(s.rec(s.run_of("each")).status) == "failed");
  BOOST_TEST(s.rec(s.run_of("each")).err->code == "element_broke");
  BOOST_TEST(s.calls.empty());  // the others were cancelled, their calls released
}

// --- timeouts and cancel of trees ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(chain_timing_out_cancels_its_running_child_then_fails_timeout) {
  simulator s;
  s.answer = [](const op_request&) { return std::optional<expected<json>>{}; };
  auto top = s.submit(R"({"operation":"run","options":{"timeoutMs":1000},"children":[{"id":"a","operation":"op"}]})");
  s.advance(1000);
  BOOST_TEST(to_string(s.rec(s.run_of("a")).status) == "cancelled");
  BOOST_TEST(to_string(s.rec(top).status) == "failed");
  BOOST_TEST(s.rec(top).err->code == codes::timeout);
}

BOOST_AUTO_TEST_CASE(cancel_while_waiting_for_a_retry_ends_cancelled_without_another_attempt) {
  simulator s;
  s.answer = [](const op_request&) -> std::optional<expected<json>> { return failure("flaky"); };
  auto top = s.submit(chain_of(R"({"id":"a","operation":"op","options":{"retry":{"max":5,"delayMs":1000}}})"));
  auto a = s.run_of("a");
  s.advance(1000);  // attempt 2 fails too: waiting again
  BOOST_TEST(std::string(to_string(s.machine(a).current())) == "waiting_retry");
  s.cancel(top);
  s.run_timers();  // the retry timer fires into an ended run
  BOOST_TEST(to_string(s.rec(a).status) == "cancelled");
  BOOST_TEST(s.rec(a).attempts == 2);
  BOOST_TEST(s.rec(a).err->code == codes::cancelled);
  BOOST_TEST(to_string(s.rec(top).status) == "cancelled");
}

BOOST_AUTO_TEST_CASE(cancel_of_a_tree_mid_retry_cancels_the_new_attempts_children_and_stops) {
  simulator s;
  int calls = 0;
  s.answer = [&](const op_request&) -> std::optional<expected<json>> {
    if (++calls == 1) return failure("flaky");  // attempt 1 of the nested chain fails at `a`
    return std::nullopt;                          // attempt 2's `a` hangs until cancelled
  };
  auto top = s.submit(chain_of(R"({"id":"inner","operation":"run","options":{"retry":{"max":3,"delayMs":500}},
                                   "children":[{"id":"a","operation":"op"},{"id":"b","operation":"op"}]})"));
  auto inner = s.run_of("inner");
  s.advance(500);  // the retry: a new `a` runs (retrying a chain runs all its children again)
  auto attempts_of_a = s.runs_of("a");
  BOOST_REQUIRE(attempts_of_a.size() == 2u);
  BOOST_TEST(to_string(s.rec(attempts_of_a[0]).status) == "failed");
  s.cancel(top);
  s.run_timers();
  BOOST_TEST(to_string(s.rec(attempts_of_a[1]).status) == "cancelled");
  BOOST_TEST(to_string(s.rec(inner).status) == "cancelled");
  BOOST_TEST(s.rec(inner).attempts == 2);
  BOOST_TEST(s.rec(inner).child_run_ids == attempts_of_a);  // every attempt's children are listed
  BOOST_TEST(s.runs_of("b").empty());
  BOOST_TEST(calls == 2);
  BOOST_TEST(to_string(s.rec(top).status) == "cancelled");
}

BOOST_AUTO_TEST_CASE(chain_steps_follow_one_another_each_parented_by_the_one_before) {
  simulator s;
  auto top = s.submit(chain_of(R"({"id":"a","operation":"op","input":1},{"id":"b","operation":"op"},{"id":"c","operation":"op"})"));
  BOOST_TEST(s.rec(s.run_of("a")).parent_run_id == top);
  BOOST_TEST(s.rec(s.run_of("b")).parent_run_id == s.run_of("a"));
  BOOST_TEST(s.rec(s.run_of("c")).parent_run_id == s.run_of("b"));
  BOOST_TEST(s.rec(s.run_of("c")).step_index == 2);
  BOOST_TEST(deref(s.rec(s.run_of("c")).input).get<int>() == 1);  // the pipe
  BOOST_TEST(deref(s.rec(top).output)["steps"].size() == 3u);
}

BOOST_AUTO_TEST_CASE(cancel_of_a_nested_tree_cancels_every_level_bottom_up) {
  simulator s;
  s.answer = [](const op_request&) { return std::optional<expected<json>>{}; };
  auto top = s.submit(chain_of(R"({"id":"inner","operation":"run","children":[
                                     {"id":"g","parallel":["x","y"],"operations":[{"id":"x","operation":"op"},{"id":"y","operation":"op"}]}]})"));
  s.cancel(top);
  for (const char* id : {"x", "y", "g", "inner"}) BOOST_TEST(to_string(s.rec(s.run_of(id)).status) == "cancelled");
  BOOST_TEST(to_string(s.rec(top).status) == "cancelled");
  BOOST_TEST(s.calls.empty());
  // Ends are published children first.
  std::vector<std::string> ends;
  for (const auto& line : s.trace)
    if (line.find(" end ") != std::string::npos) ends.push_back(line.substr(0, line.find(' ')));
  BOOST_TEST(ends.back() == top);
}

BOOST_AUTO_TEST_CASE(cancel_of_one_step_fails_its_chain_which_onError_may_catch) {
  simulator s;
  s.answer = [](const op_request& r) -> std::optional<expected<json>> {
    if (r.operation == "slow") return std::nullopt;
    return r.in();
  };
  auto top = s.submit(chain_of(R"({"id":"inner","operation":"run","onError":{"id":"fb","operation":"op","input":"{{error.code}}"},
                                   "children":[{"id":"a","operation":"slow"}]})"));
  s.cancel(s.run_of("a"));
  BOOST_TEST(to_string(s.rec(s.run_of("a")).status) == "cancelled");
  const auto& inner = s.rec(s.run_of("inner"));
  BOOST_TEST(to_string(inner.status) == "failed");
  BOOST_TEST(inner.recovered);
  BOOST_TEST(deref(inner.output).get<std::string>() == "cancelled");
  BOOST_TEST(to_string(s.rec(top).status) == "completed");
}

BOOST_AUTO_TEST_CASE(child_ignoring_its_cancel_is_ended_by_force_after_the_grace) {
  simulator s;
  s.answer = [](const op_request&) { return std::optional<expected<json>>{}; };
  auto top = s.submit(chain_of(R"({"id":"a","operation":"op"})"));
  auto a = s.run_of("a");
  s.deaf = {a};
  s.cancel(top);
  BOOST_TEST(to_string(s.rec(top).status) == "running");  // waiting for `a`
  s.advance(1999);
  BOOST_TEST(to_string(s.rec(top).status) == "running");
  s.advance(1);
  BOOST_TEST(to_string(s.rec(a).status) == "cancelled");
  BOOST_TEST(s.rec(a).err->message == "cancelled (did not stop in time)");
  BOOST_TEST(to_string(s.rec(top).status) == "cancelled");
}

BOOST_AUTO_TEST_CASE(crash_in_the_carrier_ends_the_run_failed_internal) {
  simulator s;
  s.answer = [](const op_request&) { return std::optional<expected<json>>{}; };
  s.submit(chain_of(R"({"id":"a","operation":"op"})"));
  auto a = s.run_of("a");
  std::vector<run::action> out;
  const_cast<run::machine&>(s.machine(a)).handle(run::crashed{"boom"}, s.now, out);
  BOOST_REQUIRE(!out.empty());
  auto* end = std::get_if<run::end_run>(&out.back());
  BOOST_REQUIRE(end);
  BOOST_TEST(to_string(end->record->status) == "failed");
  BOOST_TEST(end->record->err->code == codes::internal);
  BOOST_TEST(end->record->err->message == "internal error: boom");
}

// --- resume -------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(resumed_chain_takes_finished_steps_and_reruns_the_running_one_in_place) {
  // What a store held when the engine stopped: `a` completed, `b` running (attempt 1), and a
  // record of an earlier attempt nobody takes up again.
  auto rec = [](std::string id, std::string owner, int index, std::string step, run_status st) {
    run_record r;
    r.id = std::move(id);
    r.owner_run_id = owner;
    r.chain_id = "run-000100";
    r.parent_run_id = owner;
    r.step_index = index;
    r.step_id = std::move(step);
    r.operation = r.step_id.empty() ? "run" : "op";
    r.status = st;
    r.attempts = 1;
    r.created = r.started = 500;
    return r;
  };
  auto a = rec("run-000101", "run-000100", 0, "a", run_status::completed);
  a.output = share(json("A's output"));
  auto b = rec("run-000102", "run-000100", 1, "b", run_status::running);
  b.input = share(json("B's input"));
  auto stray = rec("run-000103", "run-000199", 0, "x", run_status::running);
  auto plan = std::make_shared<const resume_plan>(
      std::vector<run_record>{rec("run-000100", "", -1, "", run_status::running), a, b, stray});

  simulator s;
  int calls_of_a = 0;
  s.answer = [&](const op_request& r) -> std::optional<expected<json>> {
    calls_of_a += r.step_id == "a";
    if (r.step_id == "c") return json{{"saw", r.in()}};
    return r.in();
  };
  auto top = s.submit(chain_of(R"({"id":"a","operation":"op"},{"id":"b","operation":"op"},
                                   {"id":"c","operation":"op","input":"{{a.output}}"})"),
                      42, plan, "run-000100");
  BOOST_TEST(calls_of_a == 0);  // completed before the restart: never run again
  BOOST_TEST(s.runs_of("b") == std::vector<std::string>{"run-000102"});  // run again in place
  BOOST_TEST(s.rec("run-000102").attempts == 2);
  BOOST_TEST(deref(s.rec("run-000102").output).get<std::string>() == "B's input");
  BOOST_TEST(deref(s.rec(s.run_of("c")).output).dump() == R"({"saw":"A's output"})");
  BOOST_TEST(to_string(s.rec(top).status) == "completed");
  BOOST_TEST(s.rec(top).attempts == 2);
  BOOST_TEST(s.rec(top).child_run_ids.front() == "run-000101");
  // The record nobody took up again is ended, cancelled (an end asked for a run already final
  // changes nothing: the first end wins).
  auto stray_end = std::find_if(s.forced.begin(), s.forced.end(), [](const auto& f) { return f.run_id == "run-000103"; });
  BOOST_REQUIRE(stray_end != s.forced.end());
  BOOST_TEST(to_string(stray_end->status) == "cancelled");
  BOOST_TEST(stray_end->error.message == "abandoned when the chain resumed after a restart");
  BOOST_TEST(to_string(s.rec("run-000101").status) == "completed");
  BOOST_TEST(to_string(s.rec("run-000102").status) == "completed");
}

// --- timers across a restart (docs/durability.md, "Timers") --------------------------------------

namespace {

/// A store's view of a chain `run-000100` stopped while its step `a` (an operation step) ran.
std::shared_ptr<const resume_plan> stopped_with(run_record a) {
  run_record top;
  top.id = top.chain_id = "run-000100";
  top.operation = "run";
  top.status = run_status::running;
  top.attempts = 1;
  top.created = top.started = top.attempt_started = 500;
  a.id = "run-000101";
  a.owner_run_id = a.parent_run_id = "run-000100";
  a.chain_id = "run-000100";
  a.step_index = 0;
  a.step_id = "a";
  a.operation = "op";
  a.status = run_status::running;
  a.attempts = 1;
  a.created = a.started = 500;
  return std::make_shared<const resume_plan>(std::vector<run_record>{top, a});
}

}  // namespace

BOOST_AUTO_TEST_CASE(attempt_resumed_after_a_restart_keeps_its_deadline_and_start) {
  run_record a;
  a.attempt_started = 1'000'000 - 7000;  // started 7 s before the restart, with a 10 s timeout
  simulator s;
  s.answer = [](const op_request&) { return std::optional<expected<json>>{}; };
  s.submit(chain_of(R"({"id":"a","operation":"op","options":{"timeoutMs":10000}})"), 42, stopped_with(a), "run-000100");
  BOOST_REQUIRE(!s.calls.empty());
  BOOST_TEST(s.calls.front().request.started == 1'000'000 - 7000);  // a `wait` ends on its old time
  BOOST_TEST(s.calls.front().request.deadline == 1'000'000 + 3000);
  BOOST_TEST(s.rec("run-000101").attempt_started == 1'000'000 - 7000);
  s.advance(2999);
  BOOST_TEST(to_string(s.rec("run-000101").status) == "running");
  s.advance(1);
  BOOST_TEST(s.rec("run-000101").err->code == codes::timeout);
}

BOOST_AUTO_TEST_CASE(attempt_whose_deadline_passed_while_stopped_times_out_at_once_after_a_restart) {
  run_record a;
  a.attempt_started = 1'000'000 - 60'000;
  simulator s;
  s.answer = [](const op_request&) { return std::optional<expected<json>>{}; };
  s.submit(chain_of(R"({"id":"a","operation":"op","options":{"timeoutMs":10000}})"), 42, stopped_with(a), "run-000100");
  s.advance(0);
  BOOST_TEST(s.rec("run-000101").err->code == codes::timeout);
}

BOOST_AUTO_TEST_CASE(retry_is_stored_with_its_time_and_a_restart_starts_it_then) {
  {
    // Waiting for a retry publishes the record with retryAt; starting it clears it.
    simulator s;
    s.answer = [](const op_request& r) -> std::optional<expected<json>> {
      if (r.attempt == 1) return make_error("flaky", "not yet");
      return json("ok");
    };
    s.submit(chain_of(R"({"id":"a","operation":"op","options":{"retry":{"max":1,"delayMs":5000}}})"));
    auto a = s.run_of("a");
    BOOST_TEST(s.rec(a).retry_at == s.now + 5000);
    BOOST_TEST(to_string(s.rec(a).status) == "running");
    s.advance(5000);
    BOOST_TEST(to_string(s.rec(a).status) == "completed");
    BOOST_TEST(s.rec(a).retry_at == 0);
    BOOST_TEST(s.rec(a).attempt_started == 0);  // an ended run has no timers
  }
  // Stopped while waiting for that retry, 2 s before its time: the resumed run waits those 2 s,
  // then runs attempt 2 afresh.
  run_record a;
  a.retry_at = 1'000'000 + 2000;
  a.attempt_started = 1'000'000 - 3000;
  simulator s;
  int calls = 0;
  s.answer = [&](const op_request& r) -> std::optional<expected<json>> {
    ++calls;
    return json{{"attempt", r.attempt}};
  };
  s.submit(chain_of(R"({"id":"a","operation":"op","options":{"retry":{"max":1,"delayMs":5000}}})"), 42, stopped_with(a),
           "run-000100");
  BOOST_TEST(calls == 0);
  s.advance(1999);
  BOOST_TEST(calls == 0);
  s.advance(1);
  BOOST_TEST(calls == 1);
  BOOST_TEST(deref(s.rec("run-000101").output)["attempt"] == 2);
  BOOST_TEST(to_string(s.rec("run-000100").status) == "completed");
}

// --- delayed start (docs/chain-language.md, "Delayed start") -------------------------------------

BOOST_AUTO_TEST_CASE(chain_with_a_later_start_is_scheduled_until_then) {
  simulator s;
  int calls = 0;
  s.answer = [&](const op_request& r) -> std::optional<expected<json>> {
    ++calls;
    return r.in();
  };
  auto top = s.submit_at(chain_of(R"({"id":"a","operation":"op","input":1})"), s.now + 5000);
  BOOST_TEST(to_string(s.rec(top).status) == "scheduled");
  BOOST_TEST(s.rec(top).start_at == s.now + 5000);
  BOOST_TEST(s.rec(top).started == 0);
  s.advance(4999);
  BOOST_TEST(calls == 0);
  s.advance(1);
  BOOST_TEST(calls == 1);
  BOOST_TEST(to_string(s.rec(top).status) == "completed");
  BOOST_TEST(s.rec(top).start_at == 0);
  BOOST_TEST(s.rec(top).started == s.now);
}

BOOST_AUTO_TEST_CASE(scheduled_chain_cancelled_before_its_start_never_runs) {
  simulator s;
  int calls = 0;
  s.answer = [&](const op_request& r) -> std::optional<expected<json>> {
    ++calls;
    return r.in();
  };
  auto top = s.submit_at(chain_of(R"({"id":"a","operation":"op"})"), s.now + 5000);
  s.cancel(top);
  BOOST_TEST(to_string(s.rec(top).status) == "cancelled");
  BOOST_TEST(s.rec(top).err->code == codes::cancelled);
  s.run_timers();
  BOOST_TEST(calls == 0);
  BOOST_TEST(s.runs_of("a").empty());
}

BOOST_AUTO_TEST_CASE(scheduled_chain_resumed_after_a_restart_keeps_its_start_time) {
  run_record top;
  top.id = top.chain_id = "run-000100";
  top.operation = "run";
  top.status = run_status::scheduled;
  top.created = 900'000;
  top.start_at = 1'000'000 + 3000;
  simulator s;
  int calls = 0;
  s.answer = [&](const op_request& r) -> std::optional<expected<json>> {
    ++calls;
    return r.in();
  };
  auto id = s.submit(chain_of(R"({"id":"a","operation":"op","input":"{{input}}"})"), 42,
                     std::make_shared<const resume_plan>(std::vector<run_record>{top}), "run-000100");
  BOOST_TEST(to_string(s.rec(id).status) == "scheduled");
  BOOST_TEST(s.rec(id).created == 900'000);
  s.advance(2999);
  BOOST_TEST(calls == 0);
  s.advance(1);
  BOOST_TEST(calls == 1);
  BOOST_TEST(to_string(s.rec(id).status) == "completed");
  BOOST_TEST(s.rec(id).attempts == 1);  // it had never started: its first attempt
}

BOOST_AUTO_TEST_SUITE_END()

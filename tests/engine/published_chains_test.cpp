// Published chains (docs/chain-language.md, "Published chains"): versions, aliases, runs and calls by
// name pinned at submit, contracts checked before anything runs, cycles refused, definitions that
// survive a restart.
#include "../temp_dir.hpp"
#include "engine_fixture.hpp"
#include "../postgres.hpp"

using namespace coworker;
using namespace coworker::test;

namespace {

/// A chain whose one step outputs {"from": tag, "got": <its input>}.
json tagged(const std::string& tag, const std::string& op = "echo") {
  return json{{"operation", "run"},
              {"children", json::array({json{{"id", "mark"}, {"operation", op}, {"input", {{"from", tag}, {"got", "{{input}}"}}}}})}};
}

/// A chain calling `ref` by name with `input`, then a step reading its output.
json calling(const std::string& ref, const json& input, const std::string& read = "{{t.output}}") {
  return json{{"operation", "run"},
              {"children", json::array({json{{"id", "t"}, {"operation", "run"}, {"chain", ref}, {"input", input}},
                                        json{{"id", "after"}, {"operation", "log"}, {"input", {{"saw", read}}}}})}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(published_chains)

BOOST_FIXTURE_TEST_CASE(versions_are_immutable_and_the_same_content_is_the_same_version, engine_fixture) {
  auto v1 = eng.publish("triage", tagged("v1"));
  BOOST_REQUIRE_MESSAGE(v1.has_value(), error_text(v1));
  BOOST_TEST(v1->version == 1);
  BOOST_TEST(v1->created);
  BOOST_TEST(v1->sha256.size() == 64u);
  // The same JSON with its keys in another order: the same version.
  auto again = eng.publish("triage", json::parse(R"({"children":[{"input":{"got":"{{input}}","from":"v1"},"operation":"echo","id":"mark"}],"operation":"run"})"));
  BOOST_REQUIRE(again.has_value());
  BOOST_TEST(again->version == 1);
  BOOST_TEST(!again->created);
  BOOST_TEST(again->sha256 == v1->sha256);
  auto v2 = eng.publish("triage", tagged("v2"));
  BOOST_TEST(v2->version == 2);
  BOOST_TEST(v2->sha256 != v1->sha256);
  auto list = eng.chains();
  BOOST_REQUIRE_EQUAL(list.size(), 1u);
  BOOST_TEST(list[0]["name"] == "triage");
  BOOST_TEST(list[0]["versions"].size() == 2u);
  BOOST_TEST(list[0]["versions"][1]["sha256"] == v2->sha256);

  // Refusals, each with its place.
  BOOST_TEST(eng.publish("no spaces", tagged("x")).error().path == "/name");
  auto bad = eng.publish("triage", json::parse(R"({"operation":"run","children":[{"id":"a","operation":"nope"}]})"));
  BOOST_TEST(bad.error().code == codes::unknown_operation);
  BOOST_TEST(bad.error().path == "/chain/children/0/operation");
  BOOST_TEST(eng.publish("triage", tagged("x"), json{{"type", "thing"}}).error().path == "/inputSchema/type");
  BOOST_TEST(eng.submit_ref("triage@9").error().code == codes::not_found);
  BOOST_TEST(eng.submit_ref("triage:prod").error().code == codes::not_found);
  BOOST_TEST(eng.submit_ref("ghost").error().code == codes::not_found);
  BOOST_TEST(eng.submit_ref("triage@x").error().code == codes::invalid_input);
}

BOOST_FIXTURE_TEST_CASE(a_run_pinned_to_a_version_keeps_it_while_a_new_one_is_published_and_aliases_move, engine_fixture) {
  BOOST_REQUIRE(eng.publish("triage", tagged("v1")).has_value());
  BOOST_REQUIRE(eng.publish("triage", tagged("v2", "hold")).has_value());
  event_counter holding(eng, started_step("mark"));
  submit_options with_input;
  with_input.input = json("mail");
  auto pinned = eng.submit_ref("triage@2", with_input);
  BOOST_REQUIRE(pinned.has_value());
  BOOST_REQUIRE(holding.wait_for(1));
  BOOST_REQUIRE(eng.publish("triage", tagged("v3")).has_value());  // while version 2 runs
  release->open();
  auto t = ended(eng, pinned);
  BOOST_TEST(t["status"] == "completed");
  BOOST_TEST(t["chainName"] == "triage");
  BOOST_TEST(t["chainVersion"] == 2);
  BOOST_TEST(t["output"]["last"] == (json{{"from", "v2"}, {"got", "mail"}}));
  BOOST_TEST(ended(eng, eng.submit_ref("triage"))["output"]["last"]["from"] == "v3");  // the latest now

  BOOST_REQUIRE(eng.alias("triage", "prod", 1).has_value());
  BOOST_TEST(ended(eng, eng.submit_ref("triage:prod"))["chainVersion"] == 1);
  BOOST_REQUIRE(eng.alias("triage", "prod", 3).has_value());
  BOOST_TEST(ended(eng, eng.submit_ref("triage:prod"))["chainVersion"] == 3);
  BOOST_TEST(eng.chains()[0]["aliases"] == (json{{"prod", 3}}));
  BOOST_TEST(eng.alias("triage", "prod", 7).error().code == codes::not_found);
  BOOST_TEST(eng.alias("ghost", "prod", 1).error().code == codes::not_found);
}

BOOST_FIXTURE_TEST_CASE(calls_by_name_three_levels_deep_each_pinned_and_in_a_scope_of_its_own, engine_fixture) {
  BOOST_REQUIRE(eng.publish("leaf", tagged("leaf")).has_value());
  auto mid = eng.publish("mid", calling("leaf", json{{"n", "{{input.n}}"}}, "{{t.output.got.n}}"));
  BOOST_REQUIRE_MESSAGE(mid.has_value(), error_text(mid));
  auto top = eng.publish("top", calling("mid@1", json{{"n", "{{input.n}}"}}));
  BOOST_REQUIRE_MESSAGE(top.has_value(), error_text(top));
  auto t = ended(eng, eng.submit(calling("top", json{{"n", 42}})));
  BOOST_TEST(t["status"] == "completed");
  // Each call outputs its chain's result (its last step's output).
  BOOST_TEST(t["children"][1]["output"] == (json{{"saw", {{"saw", {{"saw", 42}}}}}}));
  std::vector<std::string> called;
  each_run(t, [&](const json& r) {
    if (r.contains("chainName")) called.push_back(r["chainName"].get<std::string>() + "@" + std::to_string(r["chainVersion"].get<int>()));
  });
  BOOST_TEST(called == (std::vector<std::string>{"top@1", "mid@1", "leaf@1"}));
  // A caller does not see the steps inside what it calls.
  auto peek = eng.submit(json::parse(R"({"operation":"run","children":[
      {"id":"t","operation":"run","chain":"leaf"},{"id":"x","operation":"echo","input":"{{mark.output}}"}]})"));
  BOOST_TEST(peek.error().code == codes::unknown_reference);
  BOOST_TEST(peek.error().path == "/children/1/input");
}

BOOST_FIXTURE_TEST_CASE(a_call_by_name_takes_the_step_policies_of_any_step, engine_fixture) {
  BOOST_REQUIRE(eng.publish("broken", json::parse(R"({"operation":"run","children":[{"id":"x","operation":"fail"}]})")).has_value());
  auto t = ended(eng, eng.submit(json::parse(R"({"operation":"run","children":[
      {"id":"r","operation":"run","chain":"broken","options":{"retry":{"max":2,"delayMs":1}},
       "onError":{"id":"fb","operation":"echo","input":"recovered from {{error.code}}"}},
      {"id":"s","operation":"run","chain":"broken","if":false}]})")));
  BOOST_TEST(t["status"] == "completed");
  BOOST_TEST(step(t, "r")["attempts"] == 3);  // retried twice, the called chain run afresh each time
  BOOST_TEST(calls.load() == 3);
  BOOST_TEST(step(t, "r")["recovered"] == true);
  BOOST_TEST(step(t, "r")["output"] == "recovered from boom");
  BOOST_TEST(step(t, "s")["status"] == "skipped");
}

BOOST_FIXTURE_TEST_CASE(a_cycle_between_published_chains_is_refused, engine_fixture) {
  BOOST_REQUIRE(eng.publish("a", tagged("a")).has_value());
  BOOST_REQUIRE(eng.publish("b", calling("a", json::object())).has_value());
  auto cycle = eng.publish("a", calling("b", json::object()));  // a calls b calls a (version 1)
  BOOST_TEST(cycle.error().code == codes::invalid_chain);
  BOOST_TEST(cycle.error().path == "/chain/children/0/chain");
  BOOST_TEST(cycle.error().message.find("a → b → a") != std::string::npos, cycle.error().message);
  BOOST_TEST(eng.publish("c", calling("c", json::object())).error().code == codes::not_found);  // no c yet
  BOOST_REQUIRE(eng.publish("c", tagged("c")).has_value());
  BOOST_TEST(eng.publish("c", calling("c@1", json::object())).error().code == codes::invalid_chain);  // itself
}

BOOST_FIXTURE_TEST_CASE(contracts_are_checked_before_anything_runs, engine_fixture) {
  auto in = json::parse(R"({"type":"object","required":["text"],"properties":{"text":{"type":"string"}}})");
  auto out = json::parse(R"({"type":"object","properties":{"score":{"type":"number"},"tags":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"}}}}}})");
  auto scorer = json::parse(R"({"operation":"run","children":[{"id":"s","operation":"echo","input":{"score":1,"tags":[{"name":"x"}]}}]})");
  BOOST_REQUIRE(eng.publish("scorer", scorer, in, out).has_value());

  auto missing = eng.submit(calling("scorer", json{{"text", "hi"}}, "{{t.output.grade}}"));
  BOOST_TEST(missing.error().code == codes::unknown_reference);
  BOOST_TEST(missing.error().path == "/children/1/input/saw");
  BOOST_TEST(missing.error().message.find("scorer@1's outputSchema does not have") != std::string::npos, missing.error().message);
  auto deep = eng.submit(calling("scorer", json{{"text", "hi"}}, "{{t.output.tags[0].label}}"));
  BOOST_TEST(deep.error().path == "/children/1/input/saw");
  auto wrong = eng.submit(calling("scorer", json{{"text", 5}}));
  BOOST_TEST(wrong.error().code == codes::invalid_input);
  BOOST_TEST(wrong.error().path == "/children/0/input/text");
  auto absent = eng.submit(calling("scorer", json{{"other", "{{input}}"}}));
  BOOST_TEST(absent.error().path == "/children/0/input");  // `text` is required
  // What fits runs; a templated member is checked when known only.
  auto t = ended(eng, eng.submit(calling("scorer", json{{"text", "{{input}}"}}, "{{t.output.tags[0].name}}")));
  BOOST_TEST(t["status"] == "completed");
  BOOST_TEST(step(t, "after")["output"]["saw"] == "x");
}

BOOST_AUTO_TEST_CASE(versions_past_the_limit_are_busy_and_the_same_content_still_answers) {
  auto cfg = engine_fixture::make_config();
  cfg.lim.max_published_versions = 2;
  engine eng(cfg);
  BOOST_REQUIRE(eng.publish("a", tagged("1", "log")).has_value());
  BOOST_REQUIRE(eng.publish("b", tagged("1", "log")).has_value());
  BOOST_TEST(eng.publish("a", tagged("2", "log")).error().code == codes::busy);
  BOOST_TEST(eng.publish("a", tagged("1", "log"))->version == 1);
}

BOOST_AUTO_TEST_CASE(definitions_and_pinned_calls_survive_a_restart) {
  temp_dir dir("published");
  const auto db = test::store_at(dir.file("runs.db"));
  std::string caller;
  {
    engine eng(durable_config(db));
    auto first = eng.publish("leaf", tagged("one", "log"));
    BOOST_REQUIRE_MESSAGE(first.has_value(), error_text(first));
    BOOST_REQUIRE(eng.publish("mid", calling("leaf", json::object())).has_value());  // pins leaf@1
    BOOST_REQUIRE(eng.alias("mid", "prod", 1).has_value());
    BOOST_REQUIRE(eng.publish("leaf", tagged("two", "log")).has_value());
    auto t = ended(eng, eng.submit_ref("mid:prod"));
    BOOST_TEST(step(t, "t")["output"]["from"] == "one");  // mid@1 calls leaf@1, pinned when published
  }
  engine eng(durable_config(db));
  auto list = eng.chains();
  BOOST_REQUIRE_EQUAL(list.size(), 2u);
  BOOST_TEST(list[0]["name"] == "leaf");
  BOOST_TEST(list[0]["versions"].size() == 2u);
  BOOST_TEST(list[1]["aliases"] == (json{{"prod", 1}}));
  auto t = ended(eng, eng.submit_ref("mid:prod"));
  BOOST_TEST(t["chainName"] == "mid");
  BOOST_TEST(step(t, "t")["output"]["from"] == "one");
  BOOST_TEST(step(t, "t")["chainVersion"] == 1);
  auto again = eng.publish("leaf", tagged("two", "log"));
  BOOST_TEST(again->version == 2);
  BOOST_TEST(!again->created);
}

BOOST_AUTO_TEST_SUITE_END()

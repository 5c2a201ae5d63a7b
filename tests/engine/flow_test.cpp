// Data flow through the engine: pipe, templates, nesting, prev, parallel groups, forEach, records.
#include <set>

#include "engine_fixture.hpp"

using namespace coworker;
using namespace coworker::test;

BOOST_FIXTURE_TEST_SUITE(flow, engine_fixture)

BOOST_AUTO_TEST_CASE(a_fan_out_of_a_thousand_keeps_every_element_in_order) {
  json items = json::array();
  for (int i = 0; i < 1000; ++i) items.push_back(i);
  auto tree = run(json{{"operation", "run"},
                       {"input", {{"items", items}}},
                       {"children", json::array({json{{"id", "each"}, {"forEach", "{{input.items}}"}, {"as", "x"},
                                                      {"do", {{"operation", "echo"}, {"input", "{{x}}"}}}}})}});
  BOOST_TEST(tree["status"] == "completed");
  BOOST_TEST(step(tree, "each")["output"] == items);
  BOOST_TEST(step(tree, "each")["children"].size() == 1000u);
}

BOOST_AUTO_TEST_CASE(sequence_pipes_each_output_into_the_next_step) {
  auto tree = run(json::parse(R"({"operation":"run","input":{"n":1},"children":[
      {"id":"a","operation":"add"},{"id":"b","operation":"add"},{"id":"c","operation":"add"}]})"));
  BOOST_TEST(tree["status"] == "completed");
  BOOST_TEST(step(tree, "a")["input"] == json({{"n", 1}}));
  BOOST_TEST(step(tree, "c")["output"] == json({{"n", 4}}));
  BOOST_TEST(tree["output"]["last"] == json({{"n", 4}}));
  BOOST_TEST(tree["output"]["success"] == true);
  BOOST_TEST(tree["output"]["steps"].size() == 3u);
}

BOOST_AUTO_TEST_CASE(templates_reach_earlier_steps_across_nesting) {
  auto tree = run(json::parse(R"({"operation":"run","input":{"n":10},"children":[
      {"id":"first","operation":"add"},
      {"id":"inner","operation":"run","children":[
          {"id":"deep","operation":"echo","input":{"from":"{{first.output.n}}","chainInput":"{{input}}","text":"n={{first.output.n}}"}}]},
      {"id":"after","operation":"echo","input":"{{deep.output.from}}"},
      {"id":"nullin","operation":"echo","input":null}]})"));
  BOOST_TEST(tree["status"] == "completed");
  const auto& deep = step(tree, "deep");
  BOOST_TEST(deep["output"]["from"] == 11);
  BOOST_TEST(deep["output"]["text"] == "n=11");
  // A nested chain's input is what it received through the pipe: first's output.
  BOOST_TEST(deep["output"]["chainInput"] == json({{"n", 11}}));
  BOOST_TEST(step(tree, "after")["output"] == 11);
  BOOST_TEST(step(tree, "nullin")["output"].is_null());
}

BOOST_AUTO_TEST_CASE(skipped_steps_are_transparent_to_prev_and_pipe) {
  auto tree = run(json::parse(R"({"operation":"run","input":{"n":1},"children":[
      {"id":"a","operation":"add"},
      {"id":"b","operation":"add","if":"{{a.output.n}} > 100"},
      {"id":"c","operation":"echo","input":{"prevId":"{{prev.stepId}}","prev":"{{prev.output}}"}},
      {"id":"d","operation":"echo"}]})"));
  BOOST_TEST(step(tree, "b")["status"] == "skipped");
  BOOST_TEST(step(tree, "b")["output"].is_null());
  BOOST_TEST(step(tree, "c")["output"]["prevId"] == "a");
  BOOST_TEST(step(tree, "c")["output"]["prev"] == json({{"n", 2}}));
  BOOST_TEST(step(tree, "d")["input"]["prevId"] == "a");
}

BOOST_AUTO_TEST_CASE(record_links_follow_the_flow) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"a","operation":"echo","input":{"x":1}},
      {"id":"inner","operation":"run","children":[
          {"id":"i1","operation":"echo"},
          {"parallel":["p1","p2"],"id":"group","operations":[
              {"id":"p1","operation":"echo"},{"id":"p2","operation":"echo"}]}]},
      {"id":"z","operation":"echo"}]})"));
  auto chain_id = tree["id"];
  each_run(tree, [&](const json& r) { BOOST_TEST(r["chainId"] == chain_id); });
  const auto& a = step(tree, "a");
  const auto& inner = step(tree, "inner");
  const auto& i1 = step(tree, "i1");
  const auto& group = step(tree, "group");
  BOOST_TEST(a["parentRunId"] == tree["id"]);      // first child: the chain
  BOOST_TEST(inner["parentRunId"] == a["id"]);     // later child: the previous sibling
  BOOST_TEST(i1["parentRunId"] == inner["id"]);
  BOOST_TEST(group["parentRunId"] == i1["id"]);
  BOOST_TEST(step(tree, "p1")["parentRunId"] == i1["id"]);  // member: the run before the group
  BOOST_TEST(step(tree, "p2")["parentRunId"] == i1["id"]);
  BOOST_TEST(step(tree, "z")["parentRunId"] == inner["id"]);
  BOOST_TEST(tree["childRunIds"] == json::array({a["id"], inner["id"], step(tree, "z")["id"]}));
  BOOST_TEST(inner["childRunIds"] == json::array({i1["id"], group["id"]}));
  BOOST_TEST(group["childRunIds"].size() == 2u);
  BOOST_TEST(a["stepIndex"] == 0);
  BOOST_TEST(inner["stepIndex"] == 1);
  BOOST_TEST(group["stepIndex"] == 1);
  // Ids are unique.
  std::set<std::string> ids;
  int n = 0;
  each_run(tree, [&](const json& r) { ids.insert(r["id"].get<std::string>()); ++n; });
  BOOST_TEST(ids.size() == static_cast<std::size_t>(n));
}

BOOST_AUTO_TEST_CASE(parallel_group_output_is_keyed_by_member) {
  auto tree = run(json::parse(R"({"operation":"run","input":{"n":4},"children":[
      {"id":"s","operation":"add"},
      {"parallel":["x","y"],"id":"g","operations":[
          {"id":"x","operation":"add"},{"id":"y","operation":"echo","input":{"v":"{{prev.output}}"}}]},
      {"id":"after","operation":"echo","input":"{{x.output.n}}"}]})"));
  const auto& g = step(tree, "g");
  BOOST_TEST(g["status"] == "completed");
  BOOST_TEST(g["output"]["x"] == json({{"n", 6}}));
  BOOST_TEST(g["output"]["y"]["v"] == json({{"n", 5}}));  // a member's prev: the run before the group
  BOOST_TEST(step(tree, "after")["output"] == 6);
}

BOOST_AUTO_TEST_CASE(parallel_members_start_together) {
  // Each member waits inside its handler until all four have arrived: members run one after the
  // other would leave the first waiting in vain (it fails with meet_timeout at the safety timeout).
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"parallel":["a","b","c","d"],"operations":[
          {"id":"a","operation":"meet","input":{"group":4}},{"id":"b","operation":"meet","input":{"group":4}},
          {"id":"c","operation":"meet","input":{"group":4}},{"id":"d","operation":"meet","input":{"group":4}}]}]})"));
  for (const char* id : {"a", "b", "c", "d"})
    BOOST_TEST(step(tree, id)["status"] == "completed", id << ": " << step(tree, id)["error"].dump());
  BOOST_TEST(tree["status"] == "completed");
  BOOST_TEST(meeting->max_in_flight.load() == 4);  // all four were in their handlers at once
}

BOOST_AUTO_TEST_CASE(for_each_keeps_input_order_and_binds_as) {
  auto tree = run(json::parse(R"({"operation":"run","input":{"items":[1,2,3,4,5]},"children":[
      {"id":"each","forEach":"{{input.items}}","as":"item","options":{"concurrency":2},
       "do":{"id":"body","operation":"echo","input":{"v":"{{item}}"}}}]})"));
  const auto& each = step(tree, "each");
  BOOST_TEST(each["status"] == "completed");
  BOOST_TEST(each["output"] == json::parse(R"([{"v":1},{"v":2},{"v":3},{"v":4},{"v":5}])"));
  BOOST_TEST(each["childRunIds"].size() == 5u);
}

BOOST_AUTO_TEST_CASE(for_each_never_exceeds_its_concurrency) {
  // Elements meet in threes (the k-th call waits for the rest of its group of three): the forEach
  // completes only if it keeps three elements running at once, and the meeting never holds more.
  auto tree = run(json::parse(R"({"operation":"run","input":{"items":[1,2,3,4,5,6,7,8,9]},"children":[
      {"id":"each","forEach":"{{input.items}}","as":"item","options":{"concurrency":3},
       "do":{"operation":"meet","input":{"group":3}}}]})"));
  BOOST_TEST(tree["status"] == "completed", step(tree, "each")["error"].dump());
  BOOST_TEST(step(tree, "each")["output"].size() == 9u);
  BOOST_TEST(meeting->max_in_flight.load() == 3);  // three at once, never more
}

BOOST_AUTO_TEST_CASE(for_each_over_a_non_array_fails_with_invalid_input) {
  auto tree = run(json::parse(R"({"operation":"run","input":{"items":7},"children":[
      {"id":"each","forEach":"{{input.items}}","as":"item","do":{"operation":"echo"}}]})"));
  BOOST_TEST(tree["status"] == "failed");
  BOOST_TEST(step(tree, "each")["error"]["code"] == "invalid_input");
}

BOOST_AUTO_TEST_CASE(input_children_form_runs_like_children) {
  auto tree = run(json::parse(R"({"operation":"run","input":{"children":[
      {"id":"a","operation":"echo","input":{"k":1}}]}})"));
  BOOST_TEST(tree["status"] == "completed");
  BOOST_TEST(step(tree, "a")["output"] == json({{"k", 1}}));
}

BOOST_AUTO_TEST_CASE(submit_input_replaces_the_chain_input) {
  submit_options o;
  o.input = json{{"n", 41}};
  auto tree = run(json::parse(R"({"operation":"run","input":{"n":1},"children":[{"id":"a","operation":"add"}]})"), o);
  BOOST_TEST(step(tree, "a")["output"] == json({{"n", 42}}));
}

BOOST_AUTO_TEST_CASE(missing_template_path_fails_the_step_with_template_error) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"a","operation":"echo","input":{"x":1}},
      {"id":"b","operation":"echo","input":"{{a.output.y}}"}]})"));
  BOOST_TEST(tree["status"] == "failed");
  const auto& b = step(tree, "b");
  BOOST_TEST(b["error"]["code"] == "template_error");
  BOOST_TEST(b["error"]["message"].get<std::string>().find("y") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(message_steps_keep_alive_by_default) {
  auto tree = run(json::parse(R"({"operation":"run","children":[
      {"id":"a","operation":"echo","options":{"keepAlive":true}},{"id":"b","operation":"echo"}]})"));
  BOOST_TEST(step(tree, "a")["keepAlive"] == true);
  BOOST_TEST(step(tree, "b")["keepAlive"] == false);
}

BOOST_AUTO_TEST_SUITE_END()

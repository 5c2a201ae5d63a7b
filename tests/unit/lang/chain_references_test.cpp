// compile_chain: template references (earlier steps only), limits, and reporting every error.
#include <boost/test/unit_test.hpp>

#include "chain/compile.hpp"
#include "lang_test_util.hpp"

using namespace coworker;
using namespace coworker::test;

namespace {

error reference_error(const std::string& text, const std::string& path) {
  auto e = only_error(text);
  BOOST_TEST(e.code == codes::unknown_reference, e.code << " " << e.path << ": " << e.message);
  BOOST_TEST(e.path == path, e.code << " " << e.path << ": " << e.message);
  return e;
}

bool mentions(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(chain_references)

BOOST_AUTO_TEST_CASE(reference_to_earlier_step_is_valid) {
  expect_valid(chain_of(R"({"id":"emails","operation":"select"},
      {"id":"notify","operation":"create","input":{"t":"{{emails.output}}"},"if":"{{emails.output.data.length}} > 5"})"));
}

BOOST_AUTO_TEST_CASE(reference_to_no_step_names_the_step_and_root) {
  auto e = reference_error(chain_of(R"({"id":"emails","operation":"select"},
      {"id":"notify","operation":"create","if":"{{emial.output.data.length}} > 5"})"),
                           "/children/1/if");
  BOOST_TEST(e.message == "step 'notify' refers to 'emial', which no earlier step defines");
}

BOOST_AUTO_TEST_CASE(reference_to_later_step_names_where_it_is) {
  auto e = reference_error(chain_of(R"({"id":"a","operation":"log","input":{"x":["{{b.output}}"]}},{"id":"b","operation":"log"})"),
                           "/children/0/input/x/0");
  BOOST_TEST(mentions(e.message, "'b', which is defined later at /children/1"), e.message);
}

BOOST_AUTO_TEST_CASE(prev_and_input_are_always_valid) {
  expect_valid(chain_of(R"({"operation":"log","input":["{{prev.output}}","{{input.x}}"],"if":"{{input.n}} > 1"})"));
}

BOOST_AUTO_TEST_CASE(reference_into_earlier_nested_steps_is_valid) {
  expect_valid(chain_of(R"({"id":"c","operation":"run","children":[{"id":"inner","operation":"log"}]},
      {"id":"g","parallel":["m"],"operations":[{"id":"m","operation":"run","children":[{"id":"deep","operation":"log"}]}]},
      {"id":"e","forEach":[1],"as":"x","do":{"id":"body","operation":"log"}},
      {"operation":"log","input":["{{inner.output}}","{{c.output}}","{{m.output}}","{{deep.output}}","{{g.output}}","{{body.output}}","{{e.output}}"]})"));
}

BOOST_AUTO_TEST_CASE(reference_to_earlier_sibling_of_ancestor_is_valid) {
  expect_valid(chain_of(R"({"id":"top","operation":"log"},
      {"id":"c","operation":"run","children":[{"id":"c1","operation":"log"},
         {"operation":"run","children":[{"operation":"log","input":["{{top.output}}","{{c1.output}}"]}]}]})"));
}

BOOST_AUTO_TEST_CASE(reference_to_parallel_sibling_runs_at_the_same_time) {
  auto e = reference_error(chain_of(R"({"parallel":["a","b"],"operations":[
      {"id":"a","operation":"log"},{"id":"b","operation":"log","input":"{{a.output}}"}]})"),
                           "/children/0/operations/1/input");
  BOOST_TEST(e.message == "step 'b' refers to 'a', a member of the same parallel group, which runs at the same time");
  auto nested = reference_error(chain_of(R"({"parallel":["a","b"],"operations":[
      {"id":"a","operation":"run","children":[{"id":"a1","operation":"log"}]},
      {"id":"b","operation":"run","children":[{"operation":"log","input":"{{a1.output}}"}]}]})"),
                                "/children/0/operations/1/children/0/input");
  BOOST_TEST(mentions(nested.message, "another member of the same parallel group"), nested.message);
  // Inside one member, earlier steps of that member are fine.
  expect_valid(chain_of(R"({"parallel":["a"],"operations":[
      {"id":"a","operation":"run","children":[{"id":"a1","operation":"log"},{"operation":"log","input":"{{a1.output}}"}]}]})"));
}

BOOST_AUTO_TEST_CASE(reference_to_itself_or_enclosing_step_has_not_finished) {
  auto self = reference_error(chain_of(R"({"id":"a","operation":"log","if":"{{a.status}} == \"completed\""})"),
                              "/children/0/if");
  BOOST_TEST(mentions(self.message, "itself"), self.message);
  auto outer = reference_error(chain_of(R"({"id":"outer","operation":"run","children":[{"id":"in","operation":"log","input":"{{outer.output}}"}]})"),
                               "/children/0/children/0/input");
  BOOST_TEST(mentions(outer.message, "enclosing step that has not finished"), outer.message);
  auto group = reference_error(chain_of(R"({"id":"g","parallel":["m"],"operations":[{"id":"m","operation":"log","input":"{{g.output}}"}]})"),
                               "/children/0/operations/0/input");
  BOOST_TEST(mentions(group.message, "enclosing step"), group.message);
  reference_error(chain_of(R"({"id":"c","operation":"run","input":"{{c1.output}}","children":[{"id":"c1","operation":"log"}]})"),
                  "/children/0/input");
}

BOOST_AUTO_TEST_CASE(error_is_valid_only_inside_on_error) {
  expect_valid(chain_of(R"({"operation":"send","onError":{"operation":"run","children":[{"operation":"log","input":"{{error.message}}"}]}})"));
  auto e = reference_error(chain_of(R"({"operation":"log","input":"{{error.code}}"})"), "/children/0/input");
  BOOST_TEST(mentions(e.message, "only inside onError"), e.message);
}

BOOST_AUTO_TEST_CASE(on_error_sees_the_failed_step_but_not_its_insides) {
  expect_valid(chain_of(R"({"id":"pre","operation":"log"},
      {"id":"send","operation":"send","onError":{"id":"fb","operation":"log","input":["{{send.error}}","{{prev.id}}","{{pre.output}}"],
        "onError":{"operation":"log","input":["{{fb.error}}","{{send.status}}"]}}})"));
  auto e = reference_error(chain_of(R"({"id":"c","operation":"run","children":[{"id":"c1","operation":"log"}],
      "onError":{"operation":"log","input":"{{c1.output}}"}})"),
                           "/children/0/onError/input");
  BOOST_TEST(mentions(e.message, "inside the failed step"), e.message);
}

BOOST_AUTO_TEST_CASE(steps_inside_on_error_are_not_visible_after_it) {
  auto e = reference_error(chain_of(R"({"operation":"send","onError":{"id":"fb","operation":"log"}},
      {"operation":"log","input":"{{fb.output}}"})"),
                           "/children/1/input");
  BOOST_TEST(mentions(e.message, "onError handler at /children/0/onError"), e.message);
}

BOOST_AUTO_TEST_CASE(as_name_is_bound_only_inside_do) {
  expect_valid(chain_of(R"({"id":"e","forEach":[1,2],"as":"item","do":{"operation":"run","children":[
      {"id":"x","operation":"log","input":"{{item}}"},{"operation":"log","input":["{{item}}","{{x.output}}"]}]}})"));
  auto e = reference_error(chain_of(R"({"id":"e","forEach":[1],"as":"item","do":{"operation":"log"}},{"operation":"log","input":"{{item}}"})"),
                           "/children/1/input");
  BOOST_TEST(mentions(e.message, "'as' name of the forEach at /children/0"), e.message);
  reference_error(chain_of(R"({"forEach":"{{item}}","as":"item","do":{"operation":"log"}})"), "/children/0/forEach");
}

BOOST_AUTO_TEST_CASE(nested_for_each_sees_both_names) {
  expect_valid(chain_of(R"({"forEach":[[1]],"as":"row","do":{"forEach":"{{row}}","as":"cell","do":{"operation":"log","input":["{{row}}","{{cell}}"]}}})"));
}

BOOST_AUTO_TEST_CASE(every_error_is_reported) {
  auto r = compile_text(chain_of(R"({"id":"a","operation":"sned"},{"id":"a","operation":"log","input":"{{nope}}"},
      {"operation":"log","onerror":{}})"));
  BOOST_TEST_REQUIRE(r.errors.size() == 4u, describe(r));
  BOOST_TEST(r.errors[0].code == codes::unknown_operation);
  BOOST_TEST(r.errors[1].code == codes::duplicate_id);
  BOOST_TEST(r.errors[2].code == codes::unknown_reference);
  BOOST_TEST(r.errors[3].code == codes::unknown_field);
  BOOST_TEST(!r.doc);
}

BOOST_AUTO_TEST_CASE(errors_come_in_document_order) {
  std::string children;
  for (int i = 0; i < 12; ++i) children += std::string(i ? "," : "") + (i == 2 || i == 10 ? R"({"operation":"nope"})" : R"({"operation":"log"})");
  auto r = compile_text(chain_of(children));
  BOOST_REQUIRE(r.errors.size() == 2u);
  BOOST_TEST(r.errors[0].path == "/children/2/operation");
  BOOST_TEST(r.errors[1].path == "/children/10/operation");
}

// ---- limits and the summary

BOOST_AUTO_TEST_CASE(step_count_over_limit_is_invalid_chain_at_root) {
  limits lim;
  lim.max_steps = 4;  // root + 3 children (the onError and the do count too)
  expect_valid(chain_of(R"({"operation":"log"},{"operation":"log"},{"operation":"log"})"), lim);
  auto e = only_error(chain_of(R"({"operation":"log"},{"operation":"log"},{"operation":"log","onError":{"operation":"log"}})"), lim);
  BOOST_TEST(e.code == codes::invalid_chain);
  BOOST_TEST(e.path == "");
  BOOST_TEST(mentions(e.message, "5 steps"), e.message);
}

BOOST_AUTO_TEST_CASE(chain_nesting_over_limit_reports_the_deep_step) {
  limits lim;
  lim.max_chain_depth = 2;
  expect_valid(chain_of(R"({"operation":"run","children":[{"operation":"log"}]})"), lim);
  auto e = only_error(chain_of(R"({"operation":"run","children":[{"forEach":[1],"as":"x","do":{"operation":"log"}}]})"), lim);
  BOOST_TEST(e.code == codes::invalid_chain);
  BOOST_TEST(e.path == "/children/0/children/0");
}

BOOST_AUTO_TEST_CASE(summary_counts_steps_depth_and_operations) {
  auto r = compile_text(chain_of(R"({"operation":"select"},{"operation":"log"},
      {"parallel":["a"],"operations":[{"id":"a","operation":"run","children":[{"operation":"select","onError":{"operation":"log"}}]}]},
      {"forEach":[1],"as":"x","do":{"operation":"wait"}})"));
  BOOST_TEST_REQUIRE(r.ok(), describe(r));
  BOOST_TEST(r.doc->step_count == 9u);
  BOOST_TEST(r.doc->depth == 3);
  BOOST_TEST(r.doc->operations == (std::vector<std::string>{"log", "select", "wait"}));
}

BOOST_AUTO_TEST_CASE(deep_documents_built_in_code_are_refused_without_recursion) {
  // parse_json bounds parsed text; a program can hand compile_chain anything.
  json step = {{"operation", "log"}};
  for (int i = 0; i < 5000; ++i) step = json{{"operation", "log"}, {"onError", std::move(step)}};
  json doc = {{"operation", "run"}, {"children", json::array({std::move(step)})}};
  auto r = chain::compile_chain(doc, builtin_options());
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.errors[0].code == codes::too_deep);

  json value = 1;
  for (int i = 0; i < 100000; ++i) value = json::array({std::move(value)});
  json doc2 = {{"operation", "run"}, {"children", json::array({json{{"operation", "log"}, {"input", std::move(value)}}})}};
  auto r2 = chain::compile_chain(doc2, builtin_options());
  BOOST_TEST_REQUIRE(r2.errors.size() == 1u, describe(r2));
  BOOST_TEST(r2.errors[0].code == codes::too_deep);
  BOOST_TEST(r2.errors[0].path == "/children/0/input");
}

BOOST_AUTO_TEST_CASE(parse_errors_pass_through_compile_chain_text) {
  auto r = compile_text("{\"operation\":\"run\",");
  BOOST_REQUIRE(r.errors.size() == 1u);
  BOOST_TEST(r.errors[0].code == codes::bad_json);
  limits lim;
  lim.max_request_bytes = 10;
  BOOST_TEST(compile_text(chain_of(R"({"operation":"log"})"), lim).errors[0].code == codes::too_large);
}

BOOST_AUTO_TEST_SUITE_END()

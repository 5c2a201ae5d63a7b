// Redrive in the run machine, without threads (docs/chain-language.md, "Redrive"): a failed chain's
// records become a redrive plan; the runs that ended well (completed, skipped, recovered by onError)
// are taken as they are, the failed ones run again under their ids from their `if`, the steps that
// never ran run now; redrive_steps names them beforehand.
#include <map>

#include <boost/test/unit_test.hpp>

#include "simulator.hpp"

using namespace coworker;
using sim::simulator;

namespace {

const std::string order = R"({"operation":"run","children":[
    {"id":"a","operation":"op"},
    {"id":"soft","operation":"op","onError":{"id":"fb","operation":"op"}},
    {"id":"g","parallel":["p1","p2"],"operations":[{"id":"p1","operation":"op"},{"id":"p2","operation":"op"}]},
    {"id":"never","operation":"op","if":false},
    {"id":"each","forEach":[1,2],"as":"x","do":{"id":"el","operation":"op","input":"{{x}}"}},
    {"id":"gate","operation":"op","input":{"after":"{{a.output}}"}},
    {"id":"z","operation":"op"}]})";

}  // namespace

BOOST_AUTO_TEST_SUITE(redrive_machine)

BOOST_AUTO_TEST_CASE(a_redrive_keeps_what_ended_well_and_runs_the_failed_step_again_in_place) {
  simulator s;
  bool open = false;
  std::map<std::string, int> calls;
  s.answer = [&](const op_request& r) -> std::optional<expected<json>> {
    ++calls[r.step_id];
    if (r.step_id == "soft") return expected<json>(make_error("soft", "always fails"));
    if (r.step_id == "gate" && !open) return expected<json>(make_error("closed", "the gate is closed"));
    if (r.step_id == "a") return json("A");
    return r.in();
  };
  auto top = s.submit(order);
  BOOST_TEST(to_string(s.rec(top).status) == "failed");
  const auto gate_run = s.run_of("gate");
  const auto el_runs = s.runs_of("el");
  BOOST_TEST(s.rec(s.run_of("soft")).recovered);

  chain::compile_options opts;
  auto compiled = chain::compile_chain_text(order, opts);
  BOOST_REQUIRE(compiled.ok());
  BOOST_TEST(redrive_steps(*compiled.doc->root, *s.redrive_plan(top), top) == (std::vector<std::string>{"gate", "z"}));

  open = true;
  s.redrive(order, top);
  const auto& root = s.rec(top);
  BOOST_TEST(to_string(root.status) == "completed");
  BOOST_TEST(root.redrives == 1);
  BOOST_TEST((calls == std::map<std::string, int>{{"a", 1}, {"soft", 1}, {"fb", 1}, {"p1", 1}, {"p2", 1},
                                                  {"el", 2}, {"gate", 2}, {"z", 1}}));
  BOOST_TEST(s.runs_of("gate") == std::vector<std::string>{gate_run});  // the same run, run again
  BOOST_TEST(s.rec(gate_run).attempts == 1);
  BOOST_TEST(deref(s.rec(gate_run).input).dump() == R"({"after":"A"})");  // templates see the kept outputs
  BOOST_TEST(s.runs_of("el") == el_runs);
  BOOST_TEST(to_string(s.rec(s.run_of("never")).status) == "skipped");
  BOOST_TEST(root.child_run_ids.size() == 7u);
}

BOOST_AUTO_TEST_CASE(inside_a_failed_forEach_only_the_failed_element_runs_again) {
  simulator s;
  std::map<std::string, int> calls;
  bool open = false;
  s.answer = [&](const op_request& r) -> std::optional<expected<json>> {
    auto tag = r.in().dump();
    ++calls[tag];
    if (tag == "2" && !open) return expected<json>(make_error("two", "element 2 fails"));
    return r.in();
  };
  const std::string text = R"({"operation":"run","children":[
      {"id":"each","forEach":[1,2,3,4],"as":"x","options":{"concurrency":2},"do":{"id":"el","operation":"op","input":"{{x}}"}}]})";
  auto top = s.submit(text);
  BOOST_TEST(to_string(s.rec(top).status) == "failed");
  chain::compile_options opts;
  auto compiled = chain::compile_chain_text(text, opts);
  BOOST_REQUIRE(compiled.ok());
  BOOST_TEST(redrive_steps(*compiled.doc->root, *s.redrive_plan(top), top) == (std::vector<std::string>{"each", "el"}));
  auto before = calls;
  open = true;
  s.redrive(text, top);
  BOOST_TEST(to_string(s.rec(top).status) == "completed");
  BOOST_TEST(calls["1"] == 1);  // completed before: kept
  BOOST_TEST(calls["2"] == before["2"] + 1);
  BOOST_TEST(before["3"] == 1);  // started after 1 ended, cancelled by 2's failure: runs again
  BOOST_TEST(calls["3"] == 2);
  BOOST_TEST(before.count("4") == 0u);  // never started: runs now, once
  BOOST_TEST(calls["4"] == 1);
  BOOST_TEST(deref(s.rec(s.run_of("each")).output).dump() == "[1,2,3,4]");
}

BOOST_AUTO_TEST_SUITE_END()

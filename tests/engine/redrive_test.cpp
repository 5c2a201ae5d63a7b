// Redrive (docs/chain-language.md, "Redrive"): a failed or cancelled chain runs again under its id,
// keeping what ended well. Executions are counted by the operations themselves; a durable engine is
// checked across a stop in the middle of a redrive (it resumes as a redrive).
#include <filesystem>
#include <map>

#include "../temp_dir.hpp"
#include "engine_fixture.hpp"
#include "../postgres.hpp"

using namespace coworker;
using namespace coworker::test;

namespace {

/// Counts the calls of `count` by input.tag; `gate` fails while `open` is false and, with `park`,
/// never answers (the engine stops under it).
struct counted_ops {
  std::shared_ptr<std::mutex> mu = std::make_shared<std::mutex>();
  std::shared_ptr<std::map<std::string, int>> calls = std::make_shared<std::map<std::string, int>>();
  std::shared_ptr<std::atomic<bool>> open = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<std::atomic<bool>> park = std::make_shared<std::atomic<bool>>(false);

  void add_to(engine& eng) const {
    BOOST_REQUIRE(eng.register_operation("count", [mu = mu, calls = calls](const op_request& r) -> expected<json> {
      std::lock_guard lock(*mu);
      ++(*calls)[r.in().value("tag", std::string("?"))];
      return r.in();
    }));
    operation gate;
    gate.name = "gate";
    gate.mode = handler_mode::async;
    gate.async = [mu = mu, calls = calls, open = open, park = park](const op_request& r, responder resp) {
      {
        std::lock_guard lock(*mu);
        ++(*calls)[r.in().value("tag", std::string("gate"))];
      }
      if (park->load()) return;  // never answers
      if (open->load()) return resp.ok(json{{"passed", r.in()}});
      resp.fail(make_error("closed", "the gate is closed"));
    };
    BOOST_REQUIRE(eng.register_operation(std::move(gate)));
  }
  std::map<std::string, int> counts() const {
    std::lock_guard lock(*mu);
    return *calls;
  }
};

/// The chain of the issue: a step, a parallel group, a forEach, then the gate (4th), then a last step.
json order_chain() {
  return json::parse(R"({"operation":"run","id":"order","input":{"items":[1,2,3]},"children":[
      {"id":"prep","operation":"count","input":{"tag":"prep"}},
      {"id":"both","parallel":["left","right"],"operations":[
          {"id":"left","operation":"count","input":{"tag":"left"}},
          {"id":"right","operation":"count","input":{"tag":"right"}}]},
      {"id":"each","forEach":"{{input.items}}","as":"item","do":{"id":"one","operation":"count","input":{"tag":"item-{{item}}"}}},
      {"id":"ship","operation":"gate","input":{"tag":"ship","after":"{{prep.output.tag}}"}},
      {"id":"done","operation":"count","input":{"tag":"done"}}]})");
}

const std::map<std::string, int> first_pass{{"prep", 1}, {"left", 1}, {"right", 1}, {"item-1", 1},
                                            {"item-2", 1}, {"item-3", 1}, {"ship", 1}};

/// stepId → the ids of its runs in the tree.
std::map<std::string, std::vector<std::string>> runs_by_step(const json& tree) {
  std::map<std::string, std::vector<std::string>> out;
  each_run(tree, [&](const json& r) {
    if (r["stepId"].is_string()) out[r["stepId"].get<std::string>()].push_back(r["id"]);
  });
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(redrive)

BOOST_AUTO_TEST_CASE(a_chain_failed_in_its_fourth_step_runs_only_that_step_and_the_next_again) {
  temp_dir dir("redrive");
  engine eng(durable_config(test::store_at(dir.file("runs.db"))));
  counted_ops ops;
  ops.add_to(eng);
  auto id = eng.submit(order_chain());
  BOOST_REQUIRE(id.has_value());
  auto failed = ended(eng, *id);
  BOOST_TEST(failed["status"] == "failed");
  BOOST_TEST(step(failed, "ship")["error"]["code"] == "closed");
  BOOST_TEST(ops.counts() == first_pass);

  // A dry run: what would run again, nothing changed.
  redrive_options dry;
  dry.dry_run = true;
  auto plan = eng.redrive(*id, dry);
  BOOST_REQUIRE_MESSAGE(plan.has_value(), error_text(plan));
  BOOST_TEST(plan->would_run == (std::vector<std::string>{"ship", "done"}));
  BOOST_TEST(plan->redrives == 1);
  BOOST_TEST(*eng.tree(*id) == failed);
  BOOST_TEST(ops.counts() == first_pass);

  ops.open->store(true);
  auto r = eng.redrive(*id);
  BOOST_REQUIRE_MESSAGE(r.has_value(), error_text(r));
  BOOST_TEST(r->run_id == *id);
  auto done = ended(eng, *id);
  BOOST_TEST(done["status"] == "completed");
  BOOST_TEST(done["redrives"] == 1);
  auto expected = first_pass;
  expected["ship"] = 2;
  expected["done"] = 1;
  BOOST_TEST(ops.counts() == expected);  // the step, the group and the forEach did not run again
  auto before = runs_by_step(failed), after = runs_by_step(done);
  for (const char* s : {"prep", "left", "right", "both", "each", "one", "ship"}) BOOST_TEST(after[s] == before[s], s);
  BOOST_TEST(step(done, "ship")["output"]["passed"]["after"] == "prep");  // templates see the kept outputs
  BOOST_TEST(step(done, "ship")["attempts"] == 1);  // a redriven step's attempts start again
  BOOST_TEST(done["output"]["last"]["tag"] == "done");

  // Completed: not again. A step is not a chain; an unknown id is not found.
  BOOST_TEST(eng.redrive(*id).error().code == codes::not_redrivable);
  auto child = eng.redrive(before["prep"].front());
  BOOST_TEST(child.error().code == codes::invalid_input);
  BOOST_TEST(child.error().path == "/runId");
  BOOST_TEST(eng.redrive("run-nope").error().code == codes::not_found);
}

BOOST_AUTO_TEST_CASE(a_redrive_stopped_midway_resumes_as_a_redrive_after_a_restart) {
  temp_dir dir("redrive");
  const auto db = test::store_at(dir.file("runs.db"));
  counted_ops ops;
  std::string id;
  json failed;
  {
    engine eng(durable_config(db));
    ops.add_to(eng);
    id = *eng.submit(order_chain());
    failed = ended(eng, id);
    BOOST_TEST(failed["status"] == "failed");
    ops.park->store(true);  // the redriven gate never answers: the engine stops under it
    event_counter parked(eng, started_step("ship"));
    auto r = eng.redrive(id);
    BOOST_REQUIRE_MESSAGE(r.has_value(), error_text(r));
    BOOST_REQUIRE(parked.wait_for(1));
  }  // a durable engine stops without recording an end
  ops.park->store(false);
  ops.open->store(true);
  engine eng(durable_config(db));
  ops.add_to(eng);
  BOOST_TEST(eng.resume() == 1u);
  auto done = ended(eng, id);
  BOOST_TEST(done["status"] == "completed");
  BOOST_TEST(done["redrives"] == 1);  // counted once, not again at the resume
  auto expected = first_pass;
  expected["ship"] = 3;  // failed, parked when the engine stopped, passed
  expected["done"] = 1;
  BOOST_TEST(ops.counts() == expected);
  BOOST_TEST(runs_by_step(done)["prep"] == runs_by_step(failed)["prep"]);
}

BOOST_AUTO_TEST_CASE(a_chain_read_back_from_the_store_by_a_new_engine_is_redriven) {
  temp_dir dir("redrive");
  const auto db = test::store_at(dir.file("runs.db"));
  counted_ops ops;
  std::string id;
  {
    engine eng(durable_config(db));
    ops.add_to(eng);
    submit_options o;
    o.input = json{{"items", {7}}};  // an input given with the chain is kept for the redrive
    id = *eng.submit(order_chain(), o);
    BOOST_TEST(ended(eng, id)["status"] == "failed");
  }
  ops.open->store(true);
  engine eng(durable_config(db));
  ops.add_to(eng);
  auto r = eng.redrive(id);
  BOOST_REQUIRE_MESSAGE(r.has_value(), error_text(r));
  auto done = ended(eng, id);
  BOOST_TEST(done["status"] == "completed");
  auto counts = ops.counts();
  BOOST_TEST(counts["item-7"] == 1);
  BOOST_TEST(counts["prep"] == 1);
  BOOST_TEST(counts["ship"] == 2);
  BOOST_TEST(counts["done"] == 1);
}

BOOST_FIXTURE_TEST_CASE(in_memory_a_failed_forEach_element_and_a_cancelled_chain_are_redriven, engine_fixture) {
  counted_ops ops;
  ops.add_to(eng);
  // The second element fails: the others completed and are kept; the element runs again in place.
  auto chain = json::parse(R"({"operation":"run","children":[
      {"id":"each","forEach":[1,2,3],"as":"item","options":{"concurrency":1},"do":{"id":"one","operation":"run","children":[
          {"id":"pick","operation":"count","input":{"tag":"pick-{{item}}"}},
          {"id":"check","operation":"gate","if":"{{item}} == 2","input":{"tag":"check-{{item}}"}}]}}]})");
  auto id = eng.submit(chain);
  BOOST_REQUIRE(id.has_value());
  auto failed = ended(eng, *id);
  BOOST_TEST(failed["status"] == "failed");
  redrive_options dry;
  dry.dry_run = true;
  BOOST_TEST(eng.redrive(*id, dry)->would_run == (std::vector<std::string>{"each", "one", "check"}));
  ops.open->store(true);
  BOOST_REQUIRE(eng.redrive(*id).has_value());
  auto done = ended(eng, *id);
  BOOST_TEST(done["status"] == "completed");
  auto counts = ops.counts();
  BOOST_TEST(counts["pick-1"] == 1);
  BOOST_TEST(counts["pick-2"] == 1);  // ended well inside the failed element: kept
  BOOST_TEST(counts["check-2"] == 2);
  BOOST_TEST(counts["pick-3"] == 1);  // never ran before (concurrency 1): runs now, once
  BOOST_TEST(step(done, "each")["output"].size() == 3u);

  // A cancelled chain: what was running when it was cancelled runs again.
  event_counter holding(eng, started_step("h"));
  auto held = eng.submit(json::parse(R"({"operation":"run","children":[
      {"id":"a","operation":"count","input":{"tag":"a"}},{"id":"h","operation":"hold","input":{"tag":"h"}}]})"));
  BOOST_REQUIRE(held.has_value());
  BOOST_REQUIRE(holding.wait_for(1));
  BOOST_REQUIRE(eng.cancel(*held).has_value());
  release->open();  // the cancelled hold returns; its answer is no longer wanted
  BOOST_TEST(ended(eng, *held)["status"] == "cancelled");
  BOOST_REQUIRE(eng.redrive(*held).has_value());
  auto again = ended(eng, *held);
  BOOST_TEST(again["status"] == "completed");
  BOOST_TEST(again["redrives"] == 1);
  BOOST_TEST(ops.counts()["a"] == 1);
}

BOOST_AUTO_TEST_SUITE_END()

// Trace context (docs/tracing.md): a chain submitted with a traceparent keeps its trace id on every
// record, its top record keeps the caller's span, and each operation sees its run's traceparent;
// with trace_all a chain without one gets a trace of its own; a durable chain keeps its trace
// across a restart (the resumed step is called with the same traceparent).
#include <map>

#include "../temp_dir.hpp"
#include "core/trace_context.hpp"
#include "engine_fixture.hpp"
#include "../postgres.hpp"

using namespace coworker;
using namespace coworker::test;

namespace {

const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string caller = "00f067aa0ba902b7";
const std::string tp = "00-" + trace + "-" + caller + "-01";

/// `seen`: run id → the traceparent its operation was called with. `park`: the operation never
/// answers (the engine stops under it).
struct traced_ops {
  std::shared_ptr<std::mutex> mu = std::make_shared<std::mutex>();
  std::shared_ptr<std::map<std::string, std::string>> seen = std::make_shared<std::map<std::string, std::string>>();
  std::shared_ptr<std::atomic<bool>> park = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<arrivals> called = std::make_shared<arrivals>();

  void add_to(engine& eng) const {
    operation op;
    op.name = "look";
    op.mode = handler_mode::async;
    op.async = [mu = mu, seen = seen, park = park, called = called](const op_request& r, responder resp) {
      {
        std::lock_guard lock(*mu);
        (*seen)[r.run_id] = r.traceparent;
      }
      called->arrive();
      if (!park->load()) resp.ok(json{{"traceparent", r.traceparent}});
    };
    BOOST_REQUIRE(eng.register_operation(std::move(op)));
  }
  std::map<std::string, std::string> snapshot() const {
    std::lock_guard lock(*mu);
    return *seen;
  }
};

json chain() {
  return json::parse(R"({"operation": "run", "id": "order", "children": [
      {"id": "a", "operation": "look"},
      {"id": "both", "parallel": ["l", "r"], "operations": [{"id": "l", "operation": "look"}, {"id": "r", "operation": "look"}]},
      {"id": "z", "operation": "look"}]})");
}

engine_config quiet(bool trace_all = false) {
  auto c = engine_fixture::make_config();
  c.trace_all = trace_all;
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tracing)

BOOST_AUTO_TEST_CASE(a_traceparent_is_kept_on_every_record_and_each_operation_sees_its_own_span) {
  engine eng(quiet());
  traced_ops ops;
  ops.add_to(eng);
  submit_options o;
  o.traceparent = tp;
  auto id = eng.submit(chain(), o);
  BOOST_REQUIRE_MESSAGE(id.has_value(), error_text(id));
  auto tree = ended(eng, *id);
  BOOST_TEST(tree["status"] == "completed");
  BOOST_TEST(tree["traceId"] == trace);
  BOOST_TEST(tree["parentSpanId"] == caller);
  int runs = 0;
  each_run(tree, [&](const json& r) {
    ++runs;
    BOOST_TEST(r["traceId"] == trace);
    if (r["id"] != *id) BOOST_TEST(!r.contains("parentSpanId"));  // only the top chain has the caller's
  });
  BOOST_TEST(runs == 6);
  auto seen = ops.snapshot();
  BOOST_TEST(seen.size() == 4u);
  for (const auto& [run_id, parent] : seen) BOOST_TEST(parent == "00-" + trace + "-" + span_id_of(run_id) + "-01");
  BOOST_TEST(step(tree, "a")["output"]["traceparent"] == seen[step(tree, "a")["id"].get<std::string>()]);
}

BOOST_AUTO_TEST_CASE(a_malformed_traceparent_is_refused_at_its_pointer_and_nothing_runs) {
  engine eng(quiet());
  traced_ops ops;
  ops.add_to(eng);
  for (const std::string& bad : {"00-" + std::string(32, '0') + "-" + caller + "-01", "00-" + trace + "-" + caller,
                                "00-" + trace + "-" + caller + "-01-", "ff-" + trace + "-" + caller + "-01",
                                "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + caller + "-01", "00_" + trace + "_" + caller + "_01"}) {
    submit_options o;
    o.traceparent = bad;
    auto id = eng.submit(chain(), o);
    BOOST_REQUIRE_MESSAGE(!id.has_value(), "accepted " << bad);
    BOOST_TEST(id.error().code == codes::invalid_input);
    BOOST_TEST(id.error().path == "/traceparent");
  }
  BOOST_TEST(ops.snapshot().empty());
  // A later version's first four fields are read (W3C: forward compatible).
  submit_options later;
  later.traceparent = "01-" + trace + "-" + caller + "-01-what-comes-next";
  auto id = eng.submit(chain(), later);
  BOOST_REQUIRE_MESSAGE(id.has_value(), error_text(id));
  BOOST_TEST(ended(eng, *id)["traceId"] == trace);
}

BOOST_AUTO_TEST_CASE(without_a_traceparent_a_chain_is_traced_only_under_trace_all) {
  {
    engine eng(quiet());
    traced_ops ops;
    ops.add_to(eng);
    auto tree = ended(eng, *eng.submit(chain()));
    each_run(tree, [&](const json& r) { BOOST_TEST(!r.contains("traceId")); });
    for (const auto& [run_id, parent] : ops.snapshot()) BOOST_TEST(parent.empty());
  }
  engine eng(quiet(true));
  traced_ops ops;
  ops.add_to(eng);
  auto id = *eng.submit(chain());
  auto tree = ended(eng, id);
  BOOST_TEST(tree["traceId"] == trace_id_of(id));
  BOOST_TEST(!tree.contains("parentSpanId"));
  for (const auto& [run_id, parent] : ops.snapshot()) BOOST_TEST(parent == "00-" + trace_id_of(id) + "-" + span_id_of(run_id) + "-01");
}

BOOST_AUTO_TEST_CASE(a_durable_chain_keeps_its_trace_across_a_restart) {
  temp_dir dir("tracing");
  const auto db = test::store_at(dir.file("runs.db"));
  traced_ops ops;
  std::string id, parked_run;
  {
    engine eng(durable_config(db));
    ops.add_to(eng);
    ops.park->store(true);
    submit_options o;
    o.traceparent = tp;
    id = *eng.submit(chain(), o);
    BOOST_REQUIRE(ops.called->wait_for(1));  // step a is called and never answers: the engine stops under it
    parked_run = ops.snapshot().begin()->first;
  }
  ops.park->store(false);
  engine eng(durable_config(db));
  ops.add_to(eng);
  BOOST_TEST(eng.resume() == 1u);
  auto tree = ended(eng, id);
  BOOST_TEST(tree["status"] == "completed");
  BOOST_TEST(tree["traceId"] == trace);
  BOOST_TEST(tree["parentSpanId"] == caller);
  each_run(tree, [&](const json& r) { BOOST_TEST(r["traceId"] == trace); });
  // Step a ran again in place after the restart: the same run, so the same span.
  BOOST_TEST(step(tree, "a")["id"] == parked_run);
  BOOST_TEST(step(tree, "a")["output"]["traceparent"] == "00-" + trace + "-" + span_id_of(parked_run) + "-01");
}

BOOST_AUTO_TEST_SUITE_END()

// Engines in a cluster over one PostgreSQL database (docs/cluster.md): each takes a partition of its
// own; when one stops, another takes its partition over and finishes its chains; one that lost its
// lease refuses new chains; a cancel, a signal or a schedule sent to one node reaches the others;
// every node lists the live nodes with what each advertised.
// Runs only on PostgreSQL (ctest's engine_tests_postgresql).
#include <atomic>
#include <chrono>
#include <thread>

#include "engine_fixture.hpp"
#include "../postgres.hpp"

using namespace coworker;
using namespace coworker::test;

namespace {

engine_config node_config(const std::string& url, const std::string& name) {
  auto c = durable_config(url);
  c.auto_resume = true;
  c.cluster_node = name;
  c.lease = std::chrono::milliseconds(600);
  return c;
}

/// Polls `done` until it holds (the test fails past safety_timeout): what happens on another
/// engine's thread is seen through the store.
template <class F>
bool eventually(F done) {
  const auto until = std::chrono::steady_clock::now() + safety_timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

/// Nodes a and b on a database of their own.
struct two_nodes {
  postgres_database db;
  engine a{node_config(db.url(), "a")};
  engine b{node_config(db.url(), "b")};
  two_nodes() {
    BOOST_REQUIRE(!a.startup_error());
    BOOST_REQUIRE(!b.startup_error());
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster)

BOOST_AUTO_TEST_CASE(a_stopped_nodes_chains_finish_on_the_node_that_takes_its_partition_over) {
  if (!stores_on_postgresql()) return;
  postgres_database db;
  auto b = std::make_unique<engine>(node_config(db.url(), "b"));
  BOOST_REQUIRE(!b->startup_error());
  std::string id;
  {
    engine a(node_config(db.url(), "a"));
    BOOST_REQUIRE(!a.startup_error());
    auto r = a.submit(json::parse(R"({"operation":"run","children":[
      {"id":"first","operation":"log","input":{"n":1}},
      {"id":"slow","operation":"wait","input":{"ms":400}},
      {"id":"last","operation":"log","input":{"n":2}}]})"));
    BOOST_REQUIRE_MESSAGE(r.has_value(), error_text(r));
    id = *r;
    BOOST_REQUIRE(eventually([&] {
      auto first = a.get(id);
      return first && !first->child_run_ids.empty() && a.get(first->child_run_ids.front()) &&
             a.get(first->child_run_ids.front())->status == run_status::completed;
    }));
  }  // a stops mid-chain: its lease is given back, its chain stays in flight in partition 0
  BOOST_REQUIRE(eventually([&] {
    auto r = b->get(id);
    return r && r->status == run_status::completed;
  }));
  auto tree = b->tree(id);
  BOOST_REQUIRE(tree.has_value());
  BOOST_TEST((*tree)["children"].size() == 3u);
  BOOST_TEST((*tree)["children"][0]["attempts"] == 1);  // completed on a, not run again on b
}

BOOST_AUTO_TEST_CASE(a_new_chain_is_refused_unavailable_by_a_node_that_lost_its_lease) {
  if (!stores_on_postgresql()) return;
  postgres_database db;
  std::atomic<bool> told{false};
  auto cfg = node_config(db.url(), "a");
  cfg.on_fenced = [&](const std::string&) { told = true; };
  engine a(cfg);
  BOOST_REQUIRE(!a.startup_error());
  engine b(node_config(db.url(), "b"));
  // What a finds after a pause past its lease: another node took partition 0 over.
  auto admin = store::sql::open(db.url(), "the test");
  BOOST_REQUIRE(admin.has_value());
  BOOST_REQUIRE((*admin)->exec("UPDATE leases SET owner = 'another', epoch = epoch + 1 WHERE partition = 0").has_value());
  BOOST_REQUIRE(eventually([&] { return told.load(); }));
  auto r = a.submit(json::parse(R"({"operation":"run","children":[{"operation":"log"}]})"));
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == codes::unavailable);
  BOOST_TEST(r.error().message.find("lost its lease") != std::string::npos, r.error().message);
  BOOST_TEST(b.submit(json::parse(R"({"operation":"run","children":[{"operation":"log"}]})")).has_value());
}

BOOST_AUTO_TEST_CASE(a_cancel_sent_to_any_node_reaches_the_node_that_runs_the_chain) {
  if (!stores_on_postgresql()) return;
  two_nodes nodes;
  auto& a = nodes.a;
  auto& b = nodes.b;
  auto id = a.submit(json::parse(R"({"operation":"run","children":[{"id":"long","operation":"wait","input":{"ms":600000}}]})"));
  BOOST_REQUIRE_MESSAGE(id.has_value(), error_text(id));
  auto sent = b.cancel(*id);  // b does not run it: it finds a through the store and tells it
  BOOST_REQUIRE_MESSAGE(sent.has_value(), error_text(sent));
  auto done = a.wait(*id, safety_timeout);
  BOOST_REQUIRE_MESSAGE(done.has_value(), error_text(done));
  BOOST_TEST(to_string(a.get(*id)->status) == "cancelled");
  BOOST_TEST(b.cancel("run-nothing-of-the-kind").error().code == codes::not_found);
}

BOOST_AUTO_TEST_CASE(a_schedule_written_through_one_node_reaches_the_others_paused_and_removed_alike) {
  if (!stores_on_postgresql()) return;
  two_nodes nodes;
  auto& a = nodes.a;
  auto& b = nodes.b;
  auto state = [](engine& e) -> std::string {  // "" when it has no schedule "nightly"
    for (const auto& s : e.schedules())
      if (s["name"] == "nightly") return s.value("paused", false) ? "paused" : "active";
    return "";
  };
  auto put = a.schedule(json::parse(R"({"name":"nightly","everyMs":3600000,
                                        "chain":{"operation":"run","children":[{"operation":"log"}]}})"));
  BOOST_REQUIRE_MESSAGE(put.has_value(), error_text(put));
  BOOST_TEST(eventually([&] { return state(b) == "active"; }));  // b fires it too, not after its restart only
  auto paused = b.schedule(json{{"name", "nightly"}, {"paused", true}});
  BOOST_REQUIRE_MESSAGE(paused.has_value(), error_text(paused));
  BOOST_TEST(eventually([&] { return state(a) == "paused"; }));
  BOOST_REQUIRE(a.unschedule("nightly").has_value());
  BOOST_TEST(eventually([&] { return state(b).empty(); }));
  BOOST_TEST(state(a).empty());
}

BOOST_AUTO_TEST_CASE(a_signal_sent_to_any_node_reaches_the_await_that_waits_on_another_once) {
  if (!stores_on_postgresql()) return;
  two_nodes nodes;
  auto& a = nodes.a;
  auto& b = nodes.b;
  auto await_on_b = [&](const std::string& key) {
    auto id = b.submit(json{{"operation", "run"}, {"children", {{{"id", "approve"}, {"operation", "await"}, {"input", {{"key", key}}}}}}});
    BOOST_REQUIRE_MESSAGE(id.has_value(), error_text(id));
    return *id;
  };
  auto waiting_step = [&](const std::string& chain) {  // the await's run id, once a sees it waiting in the store
    std::string step;
    BOOST_REQUIRE(eventually([&] {
      list_query q;
      q.chain_id = chain;
      q.status = run_status::waiting;
      auto runs = a.list(q);
      if (!runs.empty()) step = runs.front().id;
      return !step.empty();
    }));
    return step;
  };
  auto output_of = [&](const std::string& chain) {
    auto end = b.wait(chain, safety_timeout);
    BOOST_REQUIRE_MESSAGE(end.has_value(), error_text(end));
    BOOST_TEST(to_string(end->status) == "completed");
    return (*b.tree(chain))["children"][0]["output"];
  };

  // By key: no await of it on a, so a keeps it and offers it to b, whose waiting await claims it;
  // a answers `delivered`, naming b's await and b, once b stored its end.
  auto first = await_on_b("k1");
  auto first_step = waiting_step(first);
  auto taken = a.signal("k1", json{{"ok", true}}, false);
  BOOST_REQUIRE_MESSAGE(taken.has_value(), error_text(taken));
  BOOST_TEST(taken->delivered);
  BOOST_TEST(taken->run_id == first_step);
  BOOST_TEST(taken->node == "b");
  auto stored = a.get(first_step);  // as a reads it from the store: already ended
  BOOST_REQUIRE(stored.has_value());
  BOOST_TEST(to_string(stored->status) == "completed");
  BOOST_TEST(output_of(first) == json({{"ok", true}}));

  // By run id: a asks b, which runs that await, and answers once its end is stored.
  auto second = await_on_b("k2");
  auto step = waiting_step(second);
  auto asked = a.signal_run(step, json{{"n", 2}}, true);
  BOOST_REQUIRE_MESSAGE(asked.has_value(), error_text(asked));
  BOOST_TEST(asked->delivered);
  BOOST_TEST(asked->run_id == step);
  BOOST_TEST(asked->node == "b");
  BOOST_TEST(output_of(second) == json({{"n", 2}}));
  BOOST_TEST(a.signal_run(step, 3).error().code == codes::not_waiting);  // ended: b says so

  // Kept before any await of its key starts (b answers it took nothing: `kept`): the await that
  // starts later on b takes it, once.
  auto early = a.signal("k3", "early");
  BOOST_REQUIRE_MESSAGE(early.has_value(), error_text(early));
  BOOST_TEST(!early->delivered);
  BOOST_TEST(early->node.empty());
  auto third = await_on_b("k3");
  BOOST_TEST(output_of(third) == "early");
  auto fourth = await_on_b("k3");  // nothing kept for it any more, on either node
  (void)waiting_step(fourth);
  BOOST_REQUIRE(b.cancel(fourth).has_value());
}

BOOST_AUTO_TEST_CASE(every_node_lists_the_live_nodes_with_their_addresses) {
  if (!stores_on_postgresql()) return;
  postgres_database db;
  engine a(node_config(db.url(), "a"));
  auto b = std::make_unique<engine>(node_config(db.url(), "b"));
  BOOST_REQUIRE(!a.startup_error());
  BOOST_REQUIRE(!b->startup_error());
  BOOST_REQUIRE(a.advertise("http", "http://127.0.0.1:8001").has_value());
  BOOST_REQUIRE(b->advertise("http", "http://127.0.0.1:8002").has_value());
  BOOST_REQUIRE(b->advertise("events", "tcp://127.0.0.1:5581").has_value());
  auto names = [](const std::vector<node_info>& nodes) {
    std::string out;
    for (const auto& n : nodes) out += n.node + (n.self ? "*" : "") + " " + n.addresses.dump() + "; ";
    return out;
  };
  auto from_a = a.nodes();
  BOOST_REQUIRE_MESSAGE(from_a.has_value(), error_text(from_a));
  BOOST_TEST(names(*from_a) == R"(a* {"http":"http://127.0.0.1:8001"}; b {"events":"tcp://127.0.0.1:5581","http":"http://127.0.0.1:8002"}; )");
  auto from_b = b->nodes();
  BOOST_REQUIRE(from_b.has_value());
  BOOST_TEST(names(*from_b) == R"(a {"http":"http://127.0.0.1:8001"}; b* {"events":"tcp://127.0.0.1:5581","http":"http://127.0.0.1:8002"}; )");

  // An address taken out is gone from the list; a node stopped is not listed any more.
  BOOST_REQUIRE(b->advertise("http", "").has_value());
  BOOST_TEST(names(*a.nodes()) == R"(a* {"http":"http://127.0.0.1:8001"}; b {"events":"tcp://127.0.0.1:5581"}; )");
  b.reset();
  BOOST_TEST(names(*a.nodes()) == R"(a* {"http":"http://127.0.0.1:8001"}; )");
  // A node restarted under the same name is listed once, with what its new start advertised.
  engine b2(node_config(db.url(), "b"));
  BOOST_REQUIRE(!b2.startup_error());
  BOOST_TEST(names(*a.nodes()) == R"(a* {"http":"http://127.0.0.1:8001"}; b {}; )");
}

BOOST_AUTO_TEST_CASE(a_running_chain_read_from_another_node_has_its_children) {
  if (!stores_on_postgresql()) return;
  two_nodes nodes;
  auto id = nodes.b.submit(json::parse(R"({"operation":"run","children":[
      {"id":"first","operation":"log","input":1},
      {"id":"long","operation":"wait","input":{"ms":600000}}]})"));
  BOOST_REQUIRE_MESSAGE(id.has_value(), error_text(id));
  // As of b's last commit: "long" is stored running once b wrote its start.
  std::string seen;
  BOOST_TEST(eventually([&] {
    auto t = nodes.a.tree(*id);
    seen = t ? t->dump() : error_text(t);
    if (!t || (*t)["children"].size() != 2) return false;
    return (*t)["children"][0]["stepId"] == "first" && (*t)["children"][0]["status"] == "completed" &&
           (*t)["children"][1]["stepId"] == "long" && (*t)["children"][1]["status"] == "running";
  }), seen);
  BOOST_TEST((*nodes.a.tree(*id))["status"] == "running");
  BOOST_REQUIRE(nodes.a.cancel(*id).has_value());
}

BOOST_AUTO_TEST_CASE(a_node_outside_a_cluster_lists_itself) {
  engine e(engine_config{});
  BOOST_REQUIRE(e.advertise("requests", "tcp://127.0.0.1:5570").has_value());
  auto nodes = e.nodes();
  BOOST_REQUIRE(nodes.has_value());
  BOOST_REQUIRE(nodes->size() == 1u);
  BOOST_TEST(nodes->front().node == e.stream());
  BOOST_TEST(nodes->front().self);
  BOOST_TEST(nodes->front().addresses == json({{"requests", "tcp://127.0.0.1:5570"}}));
}

BOOST_AUTO_TEST_SUITE_END()

// History that does not weigh on the living (docs/durability.md, "History"): finished chains leave
// memory past limits.retainedBytes. In durable mode get, tree, list, snapshot, wait and
// idempotency keys read them back from the SQLite file, and a restart loads only what is
// unfinished; in memory mode the oldest are gone. Retention keeps the newest stored chains while
// chains run (docs/durability.md, "Retention").
#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "../temp_dir.hpp"
#include "engine_fixture.hpp"
#include "../postgres.hpp"

using namespace coworker;
using namespace coworker::test;
namespace fs = std::filesystem;

namespace {

engine_config history_config(const std::string& db, std::size_t retained_bytes) {
  engine_config c;
  c.db_path = db;
  c.auto_resume = false;
  c.lim.retained_bytes = retained_bytes;
  c.log_sink = [](std::string_view, std::string_view) {};
  return c;
}

const json two_steps = json::parse(R"({"operation":"run","children":[
  {"id":"a","operation":"log","input":{"n":"{{input.n}}"}},
  {"id":"b","operation":"log"}]})");

/// Runs `n` chains to their end (and their end to the store); returns their ids, oldest first.
std::vector<std::string> run_chains(engine& eng, int n, const std::string& key_prefix = {}) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    submit_options o;
    o.input = json{{"n", i}};
    if (!key_prefix.empty()) o.key = key_prefix + std::to_string(i);
    auto id = eng.submit(two_steps, o);
    BOOST_REQUIRE(id);
    auto done = eng.wait(*id, std::chrono::seconds(60));
    BOOST_REQUIRE_MESSAGE(done, "chain " + *id + " did not end");
    BOOST_REQUIRE(to_string(done->status) == std::string("completed"));
    ids.push_back(*id);
  }
  return ids;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(history)

BOOST_AUTO_TEST_CASE(durable_chains_out_of_memory_are_read_back_from_the_store) {
  temp_dir dir;
  const auto db = test::store_at((dir.path / "runs.db").string());
  engine eng(history_config(db, 0));  // nothing stays in memory once stored
  auto ids = run_chains(eng, 30, "k-");

  // get and tree of the oldest chain and of a step inside it
  auto first = eng.get(ids.front());
  BOOST_REQUIRE(first);
  BOOST_TEST(to_string(first->status) == std::string("completed"));
  auto tree = eng.tree(ids.front());
  BOOST_REQUIRE(tree);
  BOOST_TEST((*tree)["children"].size() == 2u);
  BOOST_TEST((*tree)["children"][0]["output"]["n"] == 0);
  auto step = eng.get((*tree)["children"][1]["id"].get<std::string>());
  BOOST_REQUIRE(step);
  BOOST_TEST(step->step_id == "b");
  // wait on a chain long ended answers from the store
  auto waited = eng.wait(ids[3], std::chrono::seconds(5));
  BOOST_REQUIRE(waited);
  BOOST_TEST(waited->id == ids[3]);
  // list: newest first, across memory and store
  list_query q;
  q.roots_only = true;
  q.limit = 10;
  auto roots = eng.list(q);
  BOOST_REQUIRE(roots.size() == 10u);
  BOOST_TEST(roots.front().id == ids.back());
  BOOST_TEST(roots.back().id == ids[20]);
  list_query one;
  one.chain_id = ids[5];
  one.limit = 100;
  BOOST_TEST(eng.list(one).size() == 3u);  // the chain and its two steps
  // snapshot: the recent finished chains, whole
  auto snap = eng.snapshot(5);
  std::set<std::string> chains;
  for (const auto& r : snap["runs"]) chains.insert(r["chainId"].get<std::string>());
  BOOST_TEST(chains.size() == 5u);
  BOOST_TEST(chains.count(ids.back()) == 1u);
  BOOST_TEST(snap["runs"].size() == 15u);
  // an idempotency key of a chain out of memory still finds it
  submit_options again;
  again.key = "k-2";
  auto same = eng.submit(two_steps, again);
  BOOST_REQUIRE(same);
  BOOST_TEST(*same == ids[2]);
}

BOOST_AUTO_TEST_CASE(restart_loads_no_finished_chain_yet_answers_for_them) {
  temp_dir dir;
  const auto db = test::store_at((dir.path / "runs.db").string());
  std::vector<std::string> ids;
  {
    engine eng(history_config(db, 64 * 1024 * 1024));
    ids = run_chains(eng, 20, "r-");
  }
  engine eng(history_config(db, 64 * 1024 * 1024));
  BOOST_TEST(eng.active_chains() == 0u);
  auto old = eng.get(ids[7]);
  BOOST_REQUIRE(old);
  BOOST_TEST(to_string(old->status) == std::string("completed"));
  BOOST_REQUIRE(eng.tree(ids[7]));
  list_query q;
  q.roots_only = true;
  q.limit = 100;
  BOOST_TEST(eng.list(q).size() == 20u);
  submit_options again;
  again.key = "r-7";
  auto same = eng.submit(two_steps, again);
  BOOST_REQUIRE(same);
  BOOST_TEST(*same == ids[7]);
  BOOST_TEST(eng.snapshot(100)["runs"].size() == 60u);
}

BOOST_AUTO_TEST_CASE(memory_mode_past_the_byte_budget_drops_the_oldest_chains) {
  engine_config c;
  c.lim.retained_bytes = 20 * 1024;  // room for a few two-step chains (about 1.5 KiB each)
  c.log_sink = [](std::string_view, std::string_view) {};
  engine eng(c);
  auto ids = run_chains(eng, 50);
  BOOST_TEST(!static_cast<bool>(eng.get(ids.front())));  // dropped: the oldest go first
  BOOST_TEST(static_cast<bool>(eng.get(ids.back())));  // the newest stay
  list_query q;
  q.roots_only = true;
  q.limit = 1000;
  auto kept = eng.list(q).size();
  BOOST_TEST(kept > 0u);
  BOOST_TEST(kept < 50u);
}

BOOST_AUTO_TEST_CASE(retention_keeps_the_newest_stored_chains_while_chains_run) {
  temp_dir dir;
  auto c = history_config(test::store_at((dir.path / "runs.db").string()), 0);  // memory keeps nothing: reads go to the file
  c.retain_stored_chains = 20;
  c.retention_every = std::chrono::milliseconds(1);  // the background passes run among the chains
  engine eng(c);
  std::atomic<bool> stop{false};
  std::atomic<int> passes{0}, failed{0};
  std::thread pruning([&] {  // and passes asked for by hand, at the same time
    while (!stop) {
      if (!eng.prune_history()) ++failed;
      ++passes;
      std::this_thread::yield();  // the committer shares the store's lock
    }
  });
  auto ids = run_chains(eng, 150, "k-");
  stop = true;
  pruning.join();
  BOOST_TEST(passes > 0);
  BOOST_TEST(failed == 0);
  BOOST_REQUIRE(eng.prune_history());  // the last chains ended after the last pass
  list_query q;
  q.roots_only = true;
  q.limit = 1000;
  auto kept = eng.list(q);
  BOOST_REQUIRE(kept.size() == 20u);
  BOOST_TEST(kept.front().id == ids.back());        // the newest first
  BOOST_TEST(kept.back().id == ids[ids.size() - 20]);
  BOOST_TEST(!eng.get(ids.front()));                 // the oldest are gone from the file
  BOOST_TEST(to_string(eng.get(ids.back())->status) == std::string("completed"));
  submit_options again;  // and with them their keys: the same key starts a new chain
  again.key = "k-0";
  auto fresh = eng.submit(two_steps, again);
  BOOST_REQUIRE(fresh);
  BOOST_TEST(*fresh != ids.front());
}

BOOST_AUTO_TEST_SUITE_END()

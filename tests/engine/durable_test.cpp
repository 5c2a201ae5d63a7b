// Durability: records and events in a SQLite file survive the engine; a chain cut off by a crash
// (a child process that _exits mid-chain, as kill -9 would) resumes without rerunning finished steps.
#include <sys/wait.h>
#include <unistd.h>


#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "../temp_dir.hpp"
#include "core/event_text.hpp"
#include "engine_fixture.hpp"
#include "../postgres.hpp"

using namespace coworker;
using namespace coworker::test;
namespace fs = std::filesystem;

namespace {

/// `mark` appends its input's tag to a file, so executions can be counted across processes.
/// `pause` answers at once, or never when `pause_ms` is negative.
void register_test_ops(engine& eng, const fs::path& marks, int pause_ms) {
  BOOST_REQUIRE(eng.register_operation("mark", [marks](const op_request& r) -> expected<json> {
    std::ofstream(marks, std::ios::app) << r.in().value("tag", std::string("?")) << "\n";
    return r.in();
  }));
  operation pause;
  pause.name = "pause";
  pause.mode = handler_mode::async;
  pause.async = [pause_ms](const op_request& r, responder resp) {
    if (pause_ms < 0) return;  // never answers: the process dies first
    resp.ok(r.in());
  };
  BOOST_REQUIRE(eng.register_operation(std::move(pause)));
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

BOOST_AUTO_TEST_SUITE(durability)

// The committer hands each value's text on (value_forms::hand_text); an edge that takes them writes
// events that say what to_json says, values passed down a chain and new ones alike.
BOOST_AUTO_TEST_CASE(events_written_from_the_committers_texts_say_what_to_json_says) {
  temp_dir dir;
  engine eng(durable_config(fs::path(test::store_at((dir.path / "runs.db").string()))));
  value_text_cache texts(eng.forms());  // as the ZeroMQ gateway makes it
  std::mutex mu;
  int events = 0, differing = 0;
  auto sub = eng.subscribe([&](const event& e) {
    std::lock_guard lock(mu);
    ++events;
    if (json::parse(envelope_text(e, eng.forms(), texts)) != to_json(e, eng.forms())) ++differing;
  });
  for (int i = 0; i < 20; ++i)
    BOOST_REQUIRE(eng.run(json::parse(R"({"operation":"run","input":{"n":)" + std::to_string(i) + R"(,"s":"\u00e9 \"q\""},
        "children":[{"operation":"log"},{"operation":"log","input":{"m":"{{input.n}}"}},{"operation":"log"}]})")).has_value());
  sub.reset();  // what was stored before still reaches the callback
  std::lock_guard lock(mu);
  BOOST_TEST(events >= 20 * 8);
  BOOST_TEST(texts.taken() >= 20u);  // each chain's input at least, handed by the committer
  BOOST_TEST(differing == 0);
}

// What `ps -L` and `top -H` show for a durable engine (docs/architecture.md, "Threads").
BOOST_AUTO_TEST_CASE(an_engines_threads_are_named) {
  temp_dir dir;
  engine eng(durable_config(fs::path(test::store_at((dir.path / "runs.db").string()))));
  BOOST_REQUIRE(eng.run(json::parse(R"({"operation":"run","children":[{"operation":"wait","input":{"ms":1}}]})")).has_value());
  std::multiset<std::string> names;
  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    auto name = read_file(task.path() / "comm");
    if (!name.empty() && name.back() == '\n') name.pop_back();
    names.insert(name);
  }
  for (const char* expected : {"cw-actors", "cw-committer", "cw-timers", "cw-retention"})
    BOOST_TEST(names.count(expected) > 0, expected << " among the threads");
  BOOST_TEST(names.count("caf.multiplexer") == 0);  // what CAF 0.17 calls its scheduler threads
}

BOOST_AUTO_TEST_CASE(records_keys_and_seq_survive_a_restart) {
  temp_dir dir;
  auto db = fs::path(test::store_at((dir.path / "runs.db").string()));
  std::string id, first_epoch;
  std::uint64_t last_seq = 0;
  json before;
  {
    engine eng(durable_config(db));
    submit_options o;
    o.key = "k-1";
    auto tree = eng.run(json::parse(R"({"operation":"run","children":[{"id":"a","operation":"log","input":{"x":1}}]})"), o);
    BOOST_REQUIRE(tree.has_value());
    id = (*tree)["id"];
    before = *tree;
    first_epoch = eng.epoch();
    last_seq = eng.seq();
  }
  engine eng(durable_config(db));
  BOOST_TEST(eng.epoch() != first_epoch);
  BOOST_TEST(eng.seq() == last_seq);  // seq continues from the store
  auto after = eng.tree(id);
  BOOST_REQUIRE(after.has_value());
  BOOST_TEST(*after == before);  // every record identical
  submit_options o;
  o.key = "k-1";
  auto again = eng.submit(json::parse(R"({"operation":"run","children":[{"operation":"log"}]})"), o);
  BOOST_REQUIRE(again.has_value());
  BOOST_TEST(*again == id);  // the idempotency key survived
  event_log log;
  auto sub = eng.subscribe([&](const event& e) { log.add(e); });
  BOOST_REQUIRE(eng.run(json::parse(R"({"operation":"run","children":[{"operation":"log"}]})")).has_value());
  sub.reset();
  auto events = log.copy();
  BOOST_REQUIRE(!events.empty());
  BOOST_TEST(events.front().seq == last_seq + 1);
  BOOST_TEST(events.front().epoch == eng.epoch());
}

BOOST_AUTO_TEST_CASE(a_chain_cut_off_by_a_crash_resumes_without_rerunning_finished_steps) {
  temp_dir dir;
  auto db = fs::path(test::store_at((dir.path / "runs.db").string()));
  auto marks = dir.path / "marks.txt";
  auto chain = json::parse(R"({"operation":"run","input":{"tag":"root"},"children":[
      {"id":"a","operation":"mark","input":{"tag":"a"}},
      {"id":"inner","operation":"run","children":[
          {"id":"b","operation":"mark","input":{"tag":"b"}},
          {"id":"p","operation":"pause","input":{"seen":"{{a.output.tag}}"}}]},
      {"id":"c","operation":"mark","input":{"tag":"c","after":"{{p.output.seen}}"}}]})");
  std::uint64_t seq_before = 0;
  pid_t pid = fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    // The doomed process: run until the start of `p` is stored (its before:run event is published
    // only once it is durable, and everything before it with it), then die without any cleanup.
    engine eng(durable_config(db));
    register_test_ops(eng, marks, -1);
    event_counter paused(eng, started_step("p"));
    auto id = eng.submit(chain);
    if (!id) _exit(3);
    if (!paused.wait_for(1)) {
      std::fprintf(stderr, "the crash child: step p did not start\n");
      _exit(4);
    }
    std::ofstream(dir.path / "seq.txt") << eng.seq();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  BOOST_REQUIRE(WIFEXITED(status));
  BOOST_REQUIRE_EQUAL(WEXITSTATUS(status), 0);
  seq_before = std::stoull(read_file(dir.path / "seq.txt"));
  BOOST_TEST(read_file(marks) == "a\nb\n");

  engine eng(durable_config(db));
  register_test_ops(eng, marks, 0);
  event_log log;
  auto sub = eng.subscribe([&](const event& e) { log.add(e); });
  BOOST_TEST(eng.resume() == 1u);
  auto roots = eng.list({std::nullopt, "", true, 10});
  BOOST_REQUIRE_EQUAL(roots.size(), 1u);
  auto done = eng.wait(roots[0].id, safety_timeout);
  BOOST_REQUIRE(done.has_value());
  BOOST_TEST(to_string(done->status) == "completed");
  BOOST_TEST(read_file(marks) == "a\nb\nc\n");  // a and b ran once; c ran after the restart
  auto tree = *eng.tree(roots[0].id);
  BOOST_TEST(step(tree, "p")["attempts"] == 2);  // the step that was running ran again
  BOOST_TEST(step(tree, "a")["attempts"] == 1);
  BOOST_TEST(step(tree, "c")["input"]["after"] == "a");  // templates see outputs recorded before
  each_run(tree, [](const json& r) { BOOST_TEST(r["status"] != "running"); });
  sub.reset();
  auto events = log.copy();
  BOOST_REQUIRE(!events.empty());
  BOOST_TEST(events.front().seq > seq_before);
  for (const auto& e : events) BOOST_TEST(e.epoch == eng.epoch());
}

BOOST_AUTO_TEST_CASE(a_subscriber_never_gets_an_event_whose_record_is_not_stored) {
  temp_dir dir;
  auto db = fs::path(test::store_at((dir.path / "runs.db").string()));
  engine eng(durable_config(db));
  std::atomic<int> checked{0}, missing{0};
  auto sub = eng.subscribe([&](const event& e) {
    // The committer published this only after its transaction committed: the store has the record.
    bool stored = false;
    if (auto reader = store::sql::open(db.string(), "the test")) {
      if (auto q = (*reader)->prepare("SELECT count(*) FROM events WHERE seq = ?1")) {
        q->bind_int(1, static_cast<std::int64_t>(e.seq));
        stored = q->next() == store::sql::step::row && q->integer(0) == 1;
      }
    }
    if (!stored) ++missing;
    if (!eng.get(e.run->id)) ++missing;
    ++checked;
  });
  for (int i = 0; i < 20; ++i)
    BOOST_REQUIRE(eng.run(json::parse(R"({"operation":"run","children":[{"operation":"log"},{"operation":"wait","input":{"ms":1}}]})")).has_value());
  sub.reset();
  BOOST_TEST(checked.load() == 20 * 6);
  BOOST_TEST(missing.load() == 0);
}

BOOST_AUTO_TEST_CASE(an_unusable_store_file_is_a_clear_startup_error) {
  engine_config c = durable_config("/nonexistent-dir/x/runs.db");
  engine eng(c);
  BOOST_REQUIRE(eng.startup_error().has_value());
  BOOST_TEST(eng.startup_error()->code == "store_error");
  BOOST_TEST(eng.startup_error()->message.find("/nonexistent-dir/x") != std::string::npos);
  auto r = eng.submit(json::parse(R"({"operation":"run","children":[{"operation":"log"}]})"));
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == "store_error");
}

BOOST_AUTO_TEST_CASE(a_second_engine_on_the_same_file_is_refused) {
  // A PostgreSQL store takes several engines: a cluster (cluster_test.cpp).
  if (test::stores_on_postgresql()) return;
  temp_dir dir;
  auto db = fs::path(test::store_at((dir.path / "shared.db").string()));
  engine first(durable_config(db));
  BOOST_REQUIRE(!first.startup_error());
  {
    engine second(durable_config(db));
    BOOST_REQUIRE(second.startup_error().has_value());
    BOOST_TEST(second.startup_error()->code == "store_error");
    BOOST_TEST(second.startup_error()->message.find("in use by another coworker") != std::string::npos);
  }
  BOOST_TEST(first.run(json::parse(R"({"operation":"run","children":[{"operation":"log"}]})")).has_value());
}

BOOST_AUTO_TEST_CASE(a_corrupt_store_file_is_a_clear_startup_error) {
  temp_dir dir;
  auto db = dir.path / "corrupt.db";
  std::ofstream(db) << std::string(8192, 'x');
  engine eng(durable_config(db));
  BOOST_REQUIRE(eng.startup_error().has_value());
  BOOST_TEST(eng.startup_error()->code == "store_error");
}

BOOST_AUTO_TEST_SUITE_END()

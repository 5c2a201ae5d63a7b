// Large values by reference (docs/store.md, "Blobs"): a value past limits.blobBytes is stored once as
// a content-addressed blob in a real SQLite file; records, events and protocol replies carry its
// reference; templates reach into it; it is read back whole after a restart and when a chain cut off
// by a crash resumes; a blob whose text is not its hash's is refused.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "../temp_dir.hpp"
#include "../sql_helpers.hpp"
#include "core/blob.hpp"
#include "core/value_forms.hpp"
#include "engine_fixture.hpp"
#include "../postgres.hpp"

using namespace coworker;
using namespace coworker::test;
namespace fs = std::filesystem;

namespace {

void add_echo(engine& eng, bool pause_never_answers = false) {
  BOOST_REQUIRE(eng.register_operation("echo", [](const op_request& r) -> expected<json> { return r.in(); }));
  operation pause;
  pause.name = "pause";
  pause.mode = handler_mode::async;
  pause.async = [pause_never_answers](const op_request& r, responder resp) {
    if (!pause_never_answers) resp.ok(r.in());
  };
  BOOST_REQUIRE(eng.register_operation(std::move(pause)));
}

/// 3,000 items of ~70 bytes: about 200 KiB, three times the blob threshold.
json many_items() {
  json items = json::array();
  for (int i = 0; i < 3000; ++i) items.push_back(json{{"title", "item " + std::to_string(i)}, {"body", std::string(40, 'b')}});
  return items;
}

/// The chain of the issue: a step whose output is large, and steps that need a part of it.
json fetch_and_pick(const json& items, const char* middle = R"({"id":"p","operation":"echo","input":1})") {
  auto chain = json::parse(std::string(R"({"operation":"run","children":[
      {"id":"fetch","operation":"echo","input":"{{input}}"},)") + middle + R"(,
      {"id":"pick","operation":"echo","input":{"title":"{{fetch.output.items[3].title}}","count":"{{fetch.output.items.length}}"}}]})");
  chain["input"] = json{{"items", items}};
  return chain;
}

std::int64_t count(const fs::path& db, const std::string& sql) { return std::stoll(sql_rows(db.string(), sql).at(0).first); }

}  // namespace

BOOST_AUTO_TEST_SUITE(large_values)

BOOST_AUTO_TEST_CASE(templates_reach_into_a_large_value_that_is_stored_once_as_a_blob) {
  temp_dir dir;
  auto db = fs::path(test::store_at((dir.path / "runs.db").string()));
  const auto items = many_items();
  std::string id, blob_id;
  json whole;
  {
    engine eng(durable_config(db));
    add_echo(eng);
    std::vector<std::size_t> frame_sizes;
    auto sub = eng.subscribe([&](const event& e) { frame_sizes.push_back(dump(to_json(e, eng.forms())).size()); });
    auto tree = eng.run(fetch_and_pick(items));
    BOOST_REQUIRE(tree.has_value());
    sub.reset();
    whole = *tree;
    id = whole["id"];
    // The step that needs a part gets the part.
    BOOST_TEST(step(whole, "pick")["output"] == json({{"title", "item 3"}, {"count", 3000}}));
    BOOST_TEST(step(whole, "fetch")["output"]["items"] == items);
    // As the protocol carries it: a reference in place of the items.
    auto carried = eng.tree(id, true);
    BOOST_REQUIRE(carried.has_value());
    const auto& ref = step(*carried, "fetch")["output"]["items"];
    BOOST_REQUIRE(blob::is_ref(ref));
    BOOST_TEST(ref["bytes"] == dump(items).size());
    blob_id = ref["$blob"];
    BOOST_TEST(blob_id == blob::id_of(dump(items)));
    BOOST_TEST(dump(*carried).size() < 64 * 1024u);
    BOOST_TEST(*eng.blob(blob_id) == items);
    for (auto n : frame_sizes) BOOST_TEST(n <= 64 * 1024u);
  }
  // Once in the file, though the chain's input, fetch's input and output and the chain's records carry it.
  BOOST_TEST(count(db, "SELECT count(*) FROM blobs") == 1);
  BOOST_TEST(count(db, "SELECT bytes FROM blobs") == static_cast<std::int64_t>(dump(items).size()));
  {
    engine eng(durable_config(db));  // read back from the store: whole again
    auto again = *eng.tree(id);
    BOOST_TEST(again == whole, json::diff(whole, again).dump().substr(0, 600));
    BOOST_TEST(*eng.blob(blob_id) == items);
    BOOST_TEST(eng.blob("sha256:" + std::string(64, '0')).error().code == codes::not_found);
    BOOST_TEST(eng.blob("sha256:nothex").error().code == codes::invalid_input);
  }
  // A blob whose text was changed no longer matches its id: refused, never handed on.
  sql_exec(db.string(), "UPDATE blobs SET text = replace(text, '\"item 3\"', '\"item 9\"')");
  engine eng(durable_config(db));
  auto changed = eng.blob(blob_id);
  BOOST_REQUIRE(!changed.has_value());
  BOOST_TEST(changed.error().code == codes::store_error);
}

BOOST_AUTO_TEST_CASE(a_value_in_the_shape_of_a_reference_that_nothing_stores_is_kept_as_it_is) {
  temp_dir dir;
  auto db = fs::path(test::store_at((dir.path / "runs.db").string()));
  const json lookalike{{"$blob", "sha256:" + std::string(64, 'a')}, {"bytes", 1}};
  std::string id;
  {
    engine eng(durable_config(db));
    add_echo(eng);
    auto chain = json::parse(R"({"operation":"run","children":[{"id":"e","operation":"echo","input":"{{input}}"}]})");
    chain["input"] = json{{"claim", lookalike}};
    auto tree = eng.run(chain);
    BOOST_REQUIRE(tree.has_value());
    id = (*tree)["id"];
  }
  engine eng(durable_config(db));  // read back from the store
  auto tree = eng.tree(id);
  BOOST_REQUIRE_MESSAGE(tree.has_value(), (tree ? std::string() : tree.error().message));
  BOOST_TEST(step(*tree, "e")["output"] == json({{"claim", lookalike}}));
  BOOST_TEST(eng.get(step(*tree, "e")["id"]).has_value());
}

BOOST_AUTO_TEST_CASE(a_10_mib_value_through_10_steps_is_stored_once) {
  temp_dir dir;
  auto db = fs::path(test::store_at((dir.path / "runs.db").string()));
  // A file's size; in a PostgreSQL database (which compresses long texts) the bytes of text stored.
  auto size_of = [&]() -> std::uintmax_t {
    if (test::stores_on_postgresql())
      return static_cast<std::uintmax_t>(count(db,
          "SELECT (SELECT COALESCE(sum(octet_length(text)), 0) FROM blobs) + "
          "(SELECT COALESCE(sum(octet_length(text)), 0) FROM run_values) + "
          "(SELECT COALESCE(sum(octet_length(document) + COALESCE(octet_length(input), 0)), 0) FROM chains) + "
          "(SELECT COALESCE(sum(octet_length(fields)), 0) FROM runs)"));
    return fs::file_size(db) + (fs::exists(dir.path / "runs.db-wal") ? fs::file_size(dir.path / "runs.db-wal") : 0);
  };
  json chain = json::parse(R"({"operation":"run","children":[{"id":"s1","operation":"echo","input":"{{input}}"}]})");
  for (int i = 2; i <= 10; ++i)
    chain["children"].push_back(json{{"id", "s" + std::to_string(i)}, {"operation", "echo"}, {"input", "{{prev.output}}"}});
  std::uintmax_t before = 0;
  {
    engine eng(durable_config(db));
    add_echo(eng);
    BOOST_REQUIRE(eng.run(json::parse(R"({"operation":"run","children":[{"operation":"echo","input":1}]})")).has_value());
  }
  before = size_of();
  std::string id;
  {
    engine eng(durable_config(db));
    add_echo(eng);
    std::size_t largest = 0;
    auto sub = eng.subscribe([&](const event& e) { largest = std::max(largest, dump(to_json(e, eng.forms())).size()); });
    chain["input"] = std::string(10 << 20, 'x');
    auto tree = eng.run(chain);
    BOOST_REQUIRE(tree.has_value());
    sub.reset();
    id = (*tree)["id"];
    BOOST_TEST(step(*tree, "s10")["output"].get_ref<const std::string&>().size() == 10u << 20);
    BOOST_TEST(largest <= 64 * 1024u);  // no event carries the value
  }
  const auto grown = size_of() - before;
  BOOST_TEST_MESSAGE("the store grew by " << grown << " bytes");
  BOOST_TEST(grown >= 10u << 20);
  BOOST_TEST(grown < 13u << 20);  // about 10 MiB, not 100
  engine eng(durable_config(db));
  BOOST_TEST(step(*eng.tree(id), "s7")["input"].get_ref<const std::string&>().size() == 10u << 20);
}

BOOST_AUTO_TEST_CASE(a_chain_cut_off_by_a_crash_resumes_with_its_large_values_whole) {
  temp_dir dir;
  auto db = fs::path(test::store_at((dir.path / "runs.db").string()));
  const auto items = many_items();
  auto chain = fetch_and_pick(items, R"({"id":"p","operation":"pause","input":{"second":"{{fetch.output.items[2].title}}"}})");
  pid_t pid = fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {  // dies, as kill -9 would, once `p` has started (everything before it is stored)
    engine eng(durable_config(db));
    add_echo(eng, true);
    event_counter paused(eng, started_step("p"));
    if (!eng.submit(chain)) _exit(3);
    _exit(paused.wait_for(1) ? 0 : 4);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  BOOST_REQUIRE(WIFEXITED(status));
  BOOST_REQUIRE_EQUAL(WEXITSTATUS(status), 0);
  BOOST_TEST(count(db, "SELECT count(*) FROM blobs") >= 1);

  engine eng(durable_config(db));
  add_echo(eng);
  BOOST_TEST(eng.resume() == 1u);
  auto roots = eng.list({std::nullopt, "", true, 10});
  BOOST_REQUIRE_EQUAL(roots.size(), 1u);
  auto done = eng.wait(roots[0].id, safety_timeout);
  BOOST_REQUIRE(done.has_value());
  BOOST_TEST(to_string(done->status) == "completed");
  auto tree = *eng.tree(roots[0].id);
  BOOST_TEST(step(tree, "fetch")["attempts"] == 1);  // not run again
  BOOST_TEST(step(tree, "p")["output"] == json({{"second", "item 2"}}));
  BOOST_TEST(step(tree, "pick")["output"] == json({{"title", "item 3"}, {"count", 3000}}));
}

BOOST_AUTO_TEST_SUITE_END()

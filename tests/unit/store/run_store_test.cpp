// The run store on a real SQLite file (docs/store.md, "Run records"): a record's row round trip, each
// value of a chain stored once, retention by count and by age (and the file that stops growing), the migration of a file of schema 1 (tests/fixtures/store/store-v1.sql,
// written by the coworker of 2026-12-01: five chains, one of them unfinished, two idempotency keys).
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <boost/test/unit_test.hpp>

#include "runs/retention.hpp"
#include "runs/run_row.hpp"
#include "runs/run_schema.hpp"
#include "runs/run_store.hpp"
#include "../../records.hpp"
#include "../../sql_helpers.hpp"
#include "core/blob.hpp"
#include "core/value_forms.hpp"
#include "../../temp_dir.hpp"

using namespace coworker;
namespace fs = std::filesystem;

namespace {

struct temp_file {
  test::temp_dir dir{"runstore"};
  std::string path() const { return dir.file("runs.db"); }
};

using test::sql_exec;
using test::sql_rows;

run_record step(const std::string& id, const std::string& chain, value_ptr in, value_ptr out) {
  run_record r;
  r.id = id;
  r.chain_id = chain;
  r.owner_run_id = id == chain ? "" : chain;
  r.operation = id == chain ? "run" : "noop";
  r.status = run_status::completed;
  r.created = 1000;
  r.input = std::move(in);
  r.output = std::move(out);
  return r;
}

std::vector<event> events_of(const std::vector<run_record>& records, std::uint64_t& seq) {
  std::vector<event> out;
  for (const auto& r : records)
    out.push_back(event{++seq, "ep-test", 1000, event_kind::after_run, std::make_shared<const run_record>(r), "node-test"});
  return out;
}

/// What row_fields wrote before it wrote text directly: the members as a JSON object, dumped.
std::string fields_as_object(const run_record& r, const json* output_with) {
  json j = json::object();
  j["operation"] = r.operation;
  if (!r.doctype.empty()) j["doctype"] = r.doctype;
  if (!r.step_id.empty()) j["stepId"] = r.step_id;
  if (r.step_index >= 0) j["stepIndex"] = r.step_index;
  if (r.started) j["started"] = r.started;
  if (r.finished) j["finished"] = r.finished;
  if (r.attempt_started) j["attemptStarted"] = r.attempt_started;
  if (r.retry_at) j["retryAt"] = r.retry_at;
  if (r.start_at) j["startAt"] = r.start_at;
  if (r.err) j["error"] = to_json(*r.err);
  if (r.success) j["success"] = true;
  if (r.recovered) j["recovered"] = true;
  if (r.attempts) j["attempts"] = r.attempts;
  if (r.redrives) j["redrives"] = r.redrives;
  if (!r.chain_name.empty()) {
    j["chainName"] = r.chain_name;
    j["chainVersion"] = r.chain_version;
    j["chainSha256"] = r.chain_sha256;
  }
  if (!r.trace_id.empty()) j["traceId"] = r.trace_id;
  if (!r.parent_span_id.empty()) j["parentSpanId"] = r.parent_span_id;
  if (!r.parent_run_id.empty()) j["parentRunId"] = r.parent_run_id;
  if (!r.child_run_ids.empty()) j["childRunIds"] = r.child_run_ids;
  if (!r.role.empty()) j["role"] = r.role;
  if (r.keep_alive) j["keepAlive"] = true;
  if (output_with) j["outputWith"] = *output_with;
  return dump(j);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_rows_fields_are_the_bytes_of_the_members_as_a_json_object) {
  auto every = test::record_with_every_member();
  every.keep_alive = true;
  const json with = {{"steps", 3}, {"success", true}};
  BOOST_TEST(runs::row_fields(every) == fields_as_object(every, nullptr));
  BOOST_TEST(runs::row_fields(every, &with) == fields_as_object(every, &with));
  run_record odd;  // text that needs escapes or is not ASCII, and an error
  odd.operation = "say \"hi\"\n";
  odd.role = "caf\xc3\xa9";
  odd.step_index = 0;
  odd.err = run_error{"E_X", "tab\there", {}, {}, {}};
  BOOST_TEST(runs::row_fields(odd) == fields_as_object(odd, nullptr));
  BOOST_TEST(runs::row_fields(run_record{}) == fields_as_object(run_record{}, nullptr));
}

BOOST_AUTO_TEST_CASE(a_record_survives_its_row_with_every_member) {
  auto r = test::record_with_every_member();
  runs::row row{r.id, r.chain_id, r.owner_run_id, "failed", r.created, runs::row_fields(r), r.input, r.output};
  auto back = runs::record_from_row(row);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(dump(to_json(*back)) == dump(to_json(r)));

  run_record bare;  // defaults stay out of `fields`
  bare.id = "run-B";
  bare.operation = "log";
  BOOST_TEST(runs::row_fields(bare) == R"({"operation":"log"})");
  runs::row bad{"run-B", "run-B", "", "completed", 0, "[1]", nullptr, nullptr};
  BOOST_TEST(!runs::record_from_row(bad).has_value());
}

BOOST_AUTO_TEST_CASE(a_value_passed_down_a_chain_is_stored_once) {
  temp_file f;
  auto store = run_store::open(f.path());
  BOOST_REQUIRE(store.has_value());
  auto a = share(json{{"payload", std::string(1000, 'a')}});
  auto b = share(json{{"payload", std::string(1000, 'b')}});
  auto b_again = share(*b);  // equal content, another value (a template rendering the same object)
  std::uint64_t seq = 0;
  // A chain's output carries its last step's output unchanged (docs/run-record.md).
  auto chain_output = share(json{{"steps", {"run-2", "run-3", "run-4", "run-5"}}, {"success", true}, {"last", *b}});
  // root(a → {.., last: b}), s1(a → a), s2(a → b), s3(b → b again), s4(b again → null)
  std::vector<run_record> chain{step("run-1", "run-1", a, chain_output), step("run-2", "run-1", a, a), step("run-3", "run-1", a, b),
                                step("run-4", "run-1", b, b_again), step("run-5", "run-1", b_again, nullptr)};
  chain[0].status = run_status::running;  // the root ends in a later transaction, after its steps
  chain[0].output = nullptr;
  BOOST_REQUIRE((*store)->write(events_of(chain, seq)).has_value());
  chain[0].status = run_status::completed;
  chain[0].output = chain_output;
  BOOST_REQUIRE((*store)->write(events_of({chain[0]}, seq)).has_value());

  auto values = sql_rows(f.path(), "SELECT COUNT(*), SUM(LENGTH(text)) FROM run_values");
  BOOST_TEST(values.at(0).first == "2");  // a and b, each once (the chain's output references b)
  auto read = (*store)->chain_records("run-1");
  BOOST_REQUIRE(read.size() == 5);
  std::map<std::string, run_record> by_id;
  for (auto& r : read) by_id[r.id] = r;
  for (const auto& want : chain) BOOST_TEST(dump(to_json(by_id.at(want.id))) == dump(to_json(want)));
  // Read back, one value is one JSON in memory too.
  BOOST_TEST(by_id.at("run-2").input.get() == by_id.at("run-3").input.get());
  BOOST_TEST(by_id.at("run-4").input.get() == by_id.at("run-5").input.get());

  // Another chain with the same content gets its own copy (a chain's values leave with it).
  std::vector<run_record> other{step("run-9", "run-9", a, a)};
  BOOST_REQUIRE((*store)->write(events_of(other, seq)).has_value());
  BOOST_TEST(sql_rows(f.path(), "SELECT COUNT(*) FROM run_values").at(0).first == "3");
  // The view gives what a user reads with sqlite3: whole records.
  auto viewed = sql_rows(f.path(), "SELECT id, record FROM run_records WHERE chain_id='run-1'");
  BOOST_REQUIRE(viewed.size() == 5);
  for (const auto& [id, record] : viewed) BOOST_TEST(json::parse(record) == to_json(by_id.at(id)), id);
}

BOOST_AUTO_TEST_CASE(a_file_of_schema_1_is_migrated_with_nothing_lost) {
  temp_file f;
  std::ifstream in(std::string(COWORKER_SOURCE_DIR) + "/tests/fixtures/store/store-v1.sql");
  std::stringstream sql;
  sql << in.rdbuf();
  BOOST_REQUIRE(!sql.str().empty());
  sql_exec(f.path(), sql.str());
  std::map<std::string, json> before;
  for (auto& [id, record] : sql_rows(f.path(), "SELECT id, record FROM runs")) before[id] = json::parse(record);
  BOOST_REQUIRE(before.size() == 20);

  std::vector<std::string> notes;
  auto store = run_store::open(f.path(), [&](const std::string& m) { notes.push_back(m); });
  BOOST_REQUIRE_MESSAGE(store.has_value(), (store ? "" : store.error().message));
  BOOST_REQUIRE(notes.size() == 2);
  BOOST_TEST(notes[1].find("migrated 20 run records") != std::string::npos);
  BOOST_TEST(sql_rows(f.path(), "PRAGMA user_version").at(0).first == std::to_string(runs::schema_version));

  for (const auto& [id, want] : before) {
    auto got = (*store)->record(id);
    BOOST_REQUIRE_MESSAGE(got.has_value(), id);
    BOOST_TEST(to_json(*got) == want, id);
  }
  for (auto& [id, record] : sql_rows(f.path(), "SELECT id, record FROM run_records"))
    BOOST_TEST(json::parse(record) == before.at(id), id);
  // The unfinished chain, its document and the keys are as they were.
  auto unfinished = (*store)->unfinished_chains();
  BOOST_REQUIRE(unfinished.size() == 1);
  BOOST_TEST(unfinished[0].document["id"] == "waiting");
  BOOST_TEST((*store)->find_key("fixture-hello").has_value());
  BOOST_TEST((*store)->find_key("fixture-failing").has_value());
  BOOST_TEST((*store)->last_seq() == 38u);
  list_filter roots;
  roots.roots_only = true;
  roots.limit = 100;
  BOOST_TEST((*store)->list(roots).size() == 5u);
  store->reset();

  // Opened again: already schema 3, nothing to migrate.
  notes.clear();
  auto again = run_store::open(f.path(), [&](const std::string& m) { notes.push_back(m); });
  BOOST_REQUIRE(again.has_value());
  BOOST_TEST(notes.empty());
  BOOST_TEST((*again)->chain_records(unfinished[0].root_id).size() == 3u);  // the chain, `before`, `pause`
}

BOOST_AUTO_TEST_CASE(a_file_of_a_newer_schema_is_refused_untouched) {
  temp_file f;
  sql_exec(f.path(), "CREATE TABLE runs(id TEXT, future TEXT); PRAGMA user_version=99;");
  auto store = run_store::open(f.path());
  BOOST_REQUIRE(!store.has_value());
  BOOST_TEST(store.error().code == codes::store_error);
  BOOST_TEST(store.error().message.find("newer coworker") != std::string::npos);
  BOOST_TEST(sql_rows(f.path(), "PRAGMA user_version").at(0).first == "99");
}

namespace {

/// A finished chain `id` (a root and two steps, the root's key `key-<id>`), created at `created`.
void write_chain(run_store& store, const std::string& id, std::int64_t created, std::uint64_t& seq,
                 run_status status = run_status::completed) {
  auto in = share(json{{"payload", std::string(1000, 'p')}, {"chain", id}});
  auto out = share(json{{"payload", std::string(1000, 'q')}, {"chain", id}});
  std::vector<run_record> chain{step(id, id, in, nullptr), step(id + "-a", id, in, out), step(id + "-b", id, out, out)};
  for (auto& r : chain) r.created = created;
  chain[0].status = status;
  if (is_final(status)) chain[0].output = out;
  BOOST_REQUIRE(store.write(events_of(chain, seq), {chain_submission{id, share(json::object()), nullptr, "key-" + id}}).has_value());
}

std::set<std::string> stored_roots(const std::string& path) {
  std::set<std::string> out;
  for (auto& [id, _] : sql_rows(path, "SELECT id, '' FROM runs WHERE owner IS NULL")) out.insert(id);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(retention_deletes_the_oldest_finished_chains_past_the_count_a_slice_at_a_time) {
  temp_file f;
  auto store = run_store::open(f.path());
  BOOST_REQUIRE(store.has_value());
  std::uint64_t seq = 0;
  for (const char* id : {"run-1", "run-2", "run-3", "run-5", "run-6", "run-7"}) write_chain(**store, id, 1000, seq);
  write_chain(**store, "run-4", 1000, seq, run_status::running);  // old, but not finished: kept
  write_chain(**store, "run-0", 1000, seq, run_status::scheduled);  // the oldest, to start later: kept
  retention_policy p{3, 0, 2};
  BOOST_TEST(*(*store)->prune(p, 2000) == 2u);  // a slice: run-1, run-2
  BOOST_TEST(*(*store)->prune(p, 2000) == 1u);  // run-3
  BOOST_TEST(*(*store)->prune(p, 2000) == 0u);
  BOOST_TEST(stored_roots(f.path()) == (std::set<std::string>{"run-0", "run-4", "run-5", "run-6", "run-7"}));
  // Their steps, values, keys and documents went with them.
  BOOST_TEST(sql_rows(f.path(), "SELECT COUNT(*) FROM runs").at(0).first == "15");
  BOOST_TEST(sql_rows(f.path(), "SELECT COUNT(*) FROM run_values").at(0).first == "10");
  BOOST_TEST(!(*store)->chain("run-1").has_value());
  BOOST_TEST((*store)->chain("run-5").has_value());
  BOOST_TEST(!(*store)->find_key("key-run-1").has_value());
  BOOST_TEST((*store)->find_key("key-run-5").has_value());
  BOOST_TEST(!(*store)->record("run-2-a").has_value());
  BOOST_TEST((*store)->record("run-5-a").has_value());
}

BOOST_AUTO_TEST_CASE(an_ended_chain_keeps_its_document_for_a_redrive_but_is_not_resumed) {
  temp_file f;
  auto store = run_store::open(f.path());
  BOOST_REQUIRE(store.has_value());
  std::uint64_t seq = 0;
  auto doc = share(json{{"operation", "run"}, {"children", json::array({json{{"operation", "log"}}})}});
  auto root = step("run-1", "run-1", nullptr, nullptr);
  root.status = run_status::running;
  BOOST_REQUIRE((*store)->write(events_of({root}, seq), {chain_submission{"run-1", doc, share(json(7)), "k"}}).has_value());
  BOOST_TEST((*store)->unfinished_chains().size() == 1u);
  root.status = run_status::failed;
  BOOST_REQUIRE((*store)->write(events_of({root}, seq)).has_value());
  BOOST_TEST((*store)->unfinished_chains().empty());
  BOOST_TEST((*store)->unfinished_keys().empty());
  auto kept = (*store)->chain("run-1");
  BOOST_REQUIRE(kept.has_value());
  BOOST_TEST(kept->document == *doc);
  BOOST_TEST(kept->has_input);
  BOOST_TEST(kept->input == json(7));
  BOOST_TEST(kept->key == "k");
  // Written again (a redrive): in flight again, once.
  BOOST_REQUIRE((*store)->write(std::vector<event>{}, {chain_submission{"run-1", doc, share(json(7)), "k"}}).has_value());
  BOOST_TEST((*store)->unfinished_chains().size() == 1u);
  BOOST_TEST(!(*store)->chain("run-2").has_value());
}

BOOST_AUTO_TEST_CASE(a_file_of_schema_4_gets_the_ended_mark_and_keeps_its_chains_in_flight) {
  temp_file f;
  sql_exec(f.path(), "CREATE TABLE chains (root_id TEXT PRIMARY KEY, document TEXT NOT NULL, input TEXT, key TEXT);"
                     "INSERT INTO chains VALUES('run-9', '{\"operation\":\"run\",\"children\":[{\"operation\":\"log\"}]}', NULL, NULL);"
                     "PRAGMA user_version=4;");
  auto store = run_store::open(f.path());
  BOOST_REQUIRE_MESSAGE(store.has_value(), (store ? "" : store.error().message));
  BOOST_TEST(sql_rows(f.path(), "PRAGMA user_version").at(0).first == std::to_string(runs::schema_version));
  auto open = (*store)->unfinished_chains();
  BOOST_REQUIRE_EQUAL(open.size(), 1u);
  BOOST_TEST(open.front().root_id == "run-9");
}

BOOST_AUTO_TEST_CASE(a_blob_is_stored_once_and_goes_with_the_last_chain_that_references_it) {
  temp_file f;
  auto store = run_store::open(f.path());
  BOOST_REQUIRE(store.has_value());
  value_forms forms(64 * 1024);
  std::uint64_t seq = 0;
  auto shared_value = share(json(std::string(100 * 1024, 's')));
  auto write = [&](const std::string& id, char own) {
    auto own_value = share(json(std::string(100 * 1024, own)));
    std::vector<run_record> chain{step(id, id, shared_value, own_value), step(id + "-a", id, shared_value, own_value)};
    BOOST_REQUIRE((*store)->write(events_of(chain, seq), {}, &forms).has_value());
  };
  write("run-1", '1');
  write("run-2", '2');
  auto blobs = [&] { return sql_rows(f.path(), "SELECT COUNT(*), SUM(LENGTH(text)) FROM blobs").at(0); };
  BOOST_TEST(blobs().first == "3");  // the shared value once, and each chain's own
  BOOST_TEST(std::stoul(blobs().second) == 3 * (100 * 1024 + 2));
  BOOST_TEST((*store)->blob(blob::id_of(dump(*shared_value))).value_or("") == dump(*shared_value));
  // The records reference it: `{"$blob","bytes"}` in the values' text.
  auto rec = (*store)->record("run-1-a");
  BOOST_REQUIRE(rec.has_value());
  BOOST_TEST(blob::is_ref(*rec->input));
  BOOST_TEST((*rec->input)["$blob"] == blob::id_of(dump(*shared_value)));
  BOOST_TEST(*(*store)->prune(retention_policy{1, 0, 100}, 2000) == 1u);  // run-1: its own blob goes
  BOOST_TEST(blobs().first == "2");
  BOOST_TEST((*store)->blob(blob::id_of(dump(*shared_value))).has_value());
  BOOST_TEST(*(*store)->prune(retention_policy{0, 0, 100}, 2000) == 1u);  // run-2, the last to reference it
  BOOST_TEST(blobs().first == "0");
}

BOOST_AUTO_TEST_CASE(retention_deletes_finished_chains_older_than_the_age) {
  temp_file f;
  auto store = run_store::open(f.path());
  BOOST_REQUIRE(store.has_value());
  std::uint64_t seq = 0;
  write_chain(**store, "run-1", 1000, seq);
  write_chain(**store, "run-2", 2000, seq, run_status::running);
  write_chain(**store, "run-3", 3000, seq);
  write_chain(**store, "run-4", 9000, seq);
  retention_policy p{100, 5000, 100};  // count far away; age 5 s at now = 10 s: created before 5 s go
  BOOST_TEST(*(*store)->prune(p, 10000) == 2u);
  BOOST_TEST(stored_roots(f.path()) == (std::set<std::string>{"run-2", "run-4"}));
  p.keep_ms = 0;  // no age limit
  BOOST_TEST(*(*store)->prune(p, 1'000'000) == 0u);
}

BOOST_AUTO_TEST_CASE(with_retention_the_file_stops_growing) {
  temp_file f;
  auto store = run_store::open(f.path());
  BOOST_REQUIRE(store.has_value());
  std::uint64_t seq = 0;
  int next = 0;
  retention_policy p{100, 0, 50};
  std::vector<long> pages;
  for (int round = 0; round < 8; ++round) {
    for (int i = 0; i < 100; ++i) {
      char id[32];
      std::snprintf(id, sizeof id, "run-%06d", next++);
      write_chain(**store, id, 1000, seq);
    }
    while (*(*store)->prune(p, 2000) > 0) {
    }
    BOOST_REQUIRE((*store)->trim_events(300).has_value());
    BOOST_TEST(stored_roots(f.path()).size() == 100u);
    pages.push_back(std::stol(sql_rows(f.path(), "PRAGMA page_count").at(0).first));
  }
  // Rounds 3 to 8 reuse the pages the deleted chains freed.
  BOOST_TEST(pages.back() <= pages[2] + pages[2] / 10, "pages per round: " << pages[2] << " then " << pages.back());
}

BOOST_AUTO_TEST_CASE(a_late_event_of_a_deleted_chain_does_not_stop_the_store) {
  temp_file f;
  auto store = run_store::open(f.path());
  BOOST_REQUIRE(store.has_value());
  std::uint64_t seq = 0;
  write_chain(**store, "run-1", 1000, seq);
  BOOST_TEST(*(*store)->prune(retention_policy{0, 0, 100}, 2000) == 1u);
  // A step of it reports once more (a deaf child forced to end, answering late): the batch is stored,
  // the run is not, and the next chain is written as usual.
  auto late = step("run-1-a", "run-1", nullptr, nullptr);
  BOOST_REQUIRE((*store)->write(events_of({late}, seq)).has_value());
  BOOST_TEST(!(*store)->record("run-1-a").has_value());
  write_chain(**store, "run-2", 3000, seq);
  BOOST_TEST(stored_roots(f.path()) == std::set<std::string>{"run-2"});
}

// Signals and await steps (src/core/signal_board.hpp) and the JSON Schema subset their payloads are
// checked against (src/core/json_schema.hpp): the rules, without actors or clocks.
#include <map>

#include <boost/test/unit_test.hpp>

#include "core/json_schema.hpp"
#include "core/signal_board.hpp"

using namespace coworker;

namespace {

/// A responder whose answer the test reads.
struct answer_box {
  std::shared_ptr<std::optional<expected<json>>> got = std::make_shared<std::optional<expected<json>>>();
  responder r{[g = got](expected<json> v) { *g = std::move(v); }};
  bool answered() const { return got->has_value(); }
  json value() const { return **got ? ***got : json("error"); }
};

/// A keeper in memory that remembers what a store would hold.
struct memory_keeper final : signal_keeper {
  std::map<std::uint64_t, kept_signal> rows;
  std::uint64_t next = 100;
  bool failing = false;
  expected<std::uint64_t> keep(const std::string& key, const json& payload, std::int64_t at) override {
    if (failing) return make_error(codes::store_error, "disk full");
    rows[next] = kept_signal{next, key, share(payload), at, {}};
    return next++;
  }
  expected<bool> take(std::uint64_t id, const std::string& run_id) override {
    auto& row = rows[id];
    if (!row.taken_by.empty() && row.taken_by != run_id) return false;  // another await's, as the store's claim
    row.taken_by = run_id;
    return true;
  }
  expected<void> drop(const std::vector<std::uint64_t>& ids) override {
    for (auto id : ids) rows.erase(id);
    return {};
  }
};

const json amount_schema = json::parse(R"({"type":"object","required":["ok"],
  "properties":{"ok":{"type":"boolean"},"amount":{"type":"number","minimum":0,"maximum":100}}})");

}  // namespace

BOOST_AUTO_TEST_SUITE(signals)

BOOST_AUTO_TEST_CASE(a_signal_goes_to_the_oldest_await_of_its_key) {
  signal_board b(60000, 10);
  answer_box first, second;
  b.wait("run-1", "k", nullptr, first.r, 0);
  b.wait("run-2", "k", nullptr, second.r, 1);
  auto r = b.signal("k", json{{"n", 1}}, 2);
  BOOST_REQUIRE(r);
  BOOST_TEST(r->delivered);
  BOOST_TEST(r->run_id == "run-1");
  BOOST_TEST(first.value().dump() == R"({"n":1})");
  BOOST_TEST(!second.answered());
  r = b.signal("k", json{{"n", 2}}, 3);
  BOOST_TEST(r->run_id == "run-2");
  BOOST_TEST(b.waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(a_signal_before_its_await_is_kept_and_taken_in_arrival_order) {
  signal_board b(60000, 10);
  BOOST_TEST(!b.signal("k", 1, 0)->delivered);
  BOOST_TEST(!b.signal("k", 2, 1)->delivered);
  BOOST_TEST(!b.signal("other", 3, 1)->delivered);
  BOOST_TEST(b.kept() == 3u);
  answer_box a, c;
  b.wait("run-1", "k", nullptr, a.r, 5);
  b.wait("run-2", "k", nullptr, c.r, 6);
  BOOST_TEST(a.value() == 1);
  BOOST_TEST(c.value() == 2);
  BOOST_TEST(b.kept() == 1u);
}

BOOST_AUTO_TEST_CASE(an_invalid_payload_is_refused_with_its_pointer_and_the_step_keeps_waiting) {
  signal_board b(60000, 10);
  answer_box a;
  b.wait("run-1", "k", amount_schema, a.r, 0);
  auto bad = b.signal("k", json{{"ok", true}, {"amount", 500}}, 1);
  BOOST_REQUIRE(!bad);
  BOOST_TEST(bad.error().code == codes::invalid_input);
  BOOST_TEST(bad.error().path == "/payload/amount");
  auto missing = b.signal("k", json::object(), 1);
  BOOST_TEST(missing.error().path == "/payload/ok");
  BOOST_TEST(!a.answered());
  BOOST_TEST(b.is_waiting("run-1"));
  BOOST_TEST(b.kept() == 0u);  // refused, not kept
  auto good = b.signal("k", json{{"ok", true}, {"amount", 5}}, 2);
  BOOST_TEST(good->delivered);
  BOOST_TEST(a.value()["amount"] == 5);
}

BOOST_AUTO_TEST_CASE(a_signal_by_run_id_reaches_that_await_only) {
  signal_board b(60000, 10);
  answer_box a, c;
  b.wait("run-1", "k", nullptr, a.r, 0);
  b.wait("run-2", "k", nullptr, c.r, 0);
  auto r = b.signal_run("run-2", "for two");
  BOOST_TEST(r->run_id == "run-2");
  BOOST_TEST(!a.answered());
  BOOST_TEST(c.value() == "for two");
  auto again = b.signal_run("run-2", "twice");
  BOOST_TEST(again.error().code == codes::not_waiting);
  BOOST_TEST(again.error().path == "/runId");
  BOOST_TEST(b.signal_run("run-9", 1).error().code == codes::not_waiting);
}

BOOST_AUTO_TEST_CASE(an_await_that_stopped_waiting_gets_nothing_and_the_signal_is_kept) {
  signal_board b(60000, 10);
  answer_box a;
  b.wait("run-1", "k", nullptr, a.r, 0);
  a.r.mark_done();  // timed out or cancelled: the run released its call
  auto r = b.signal("k", "late", 1);
  BOOST_TEST(!r->delivered);
  BOOST_TEST(b.kept() == 1u);
  BOOST_TEST(b.signal_run("run-1", 1).error().code == codes::not_waiting);
}

BOOST_AUTO_TEST_CASE(kept_signals_expire_after_the_keep_time) {
  signal_board b(1000, 10);
  (void)b.signal("k", 1, 0);
  (void)b.signal("k", 2, 800);
  BOOST_TEST(b.sweep(1000, {}) == 0u);
  BOOST_TEST(b.sweep(1001, {}) == 1u);
  BOOST_TEST(b.kept() == 1u);
  answer_box a;
  b.wait("run-1", "k", nullptr, a.r, 1500);
  BOOST_TEST(a.value() == 2);
  // One past its time is not taken even before a sweep.
  (void)b.signal("k", 3, 2000);
  answer_box late;
  b.wait("run-2", "k", nullptr, late.r, 3001);
  BOOST_TEST(!late.answered());
}

BOOST_AUTO_TEST_CASE(kept_signals_are_bounded_by_the_limit) {
  signal_board b(60000, 2);
  (void)b.signal("a", 1, 0);
  (void)b.signal("b", 1, 0);
  auto r = b.signal("c", 1, 0);
  BOOST_TEST(r.error().code == codes::busy);
  answer_box a;
  b.wait("run-1", "c", nullptr, a.r, 0);
  BOOST_TEST(b.signal("c", 1, 0)->delivered);  // a waiting await takes one past the limit
}

BOOST_AUTO_TEST_CASE(a_kept_signal_the_schema_refuses_is_dropped_for_the_next) {
  memory_keeper store;
  signal_board b(60000, 10, &store);
  (void)b.signal("k", json{{"ok", "yes"}}, 0);
  (void)b.signal("k", json{{"ok", true}}, 1);
  answer_box a;
  b.wait("run-1", "k", amount_schema, a.r, 2);
  BOOST_TEST(a.value().dump() == R"({"ok":true})");
  BOOST_TEST(store.rows.size() == 1u);  // the refused one is gone; the taken one stays until its run ends
  BOOST_TEST(store.rows.begin()->second.taken_by == "run-1");
}

BOOST_AUTO_TEST_CASE(stored_signals_survive_a_restart_and_a_taken_one_returns_to_its_run) {
  memory_keeper store;
  {
    signal_board b(60000, 10, &store);
    (void)b.signal("k", "taken", 0);
    (void)b.signal("k", "kept", 1);
    answer_box a;
    b.wait("run-1", "k", nullptr, a.r, 2);
    BOOST_TEST(a.value() == "taken");
  }  // the process dies before run-1's end is stored
  std::vector<kept_signal> rows;
  for (const auto& [id, s] : store.rows) rows.push_back(s);
  signal_board b(60000, 10, &store);
  b.restore(rows);
  BOOST_TEST(b.kept() == 1u);
  answer_box other, resumed;
  b.wait("run-2", "k", nullptr, other.r, 3);  // another await of the key gets the kept one
  BOOST_TEST(other.value() == "kept");
  b.wait("run-1", "k-changed", nullptr, resumed.r, 4);  // the resumed await gets its own again
  BOOST_TEST(resumed.value() == "taken");
  // Once their runs ended, the rows go.
  b.sweep(5, [](const std::string&) { return true; });
  BOOST_TEST(store.rows.empty());
}

// Two nodes of a cluster share one store (docs/cluster.md, "Signals"): each board holds a copy of a
// kept signal; the first claim wins and the other copy goes.
BOOST_AUTO_TEST_CASE(a_signal_kept_on_one_node_is_taken_by_an_await_waiting_on_another_once) {
  memory_keeper store;
  signal_board a(60000, 10, &store), b(60000, 10, &store);
  answer_box waiting, second;
  b.wait("run-b", "k", nullptr, waiting.r, 0);
  auto r = a.signal("k", json{{"n", 1}}, 1);  // no await of "k" on a: kept there
  BOOST_REQUIRE(r);
  BOOST_TEST(!r->delivered);
  BOOST_TEST(r->kept_id == 100u);
  BOOST_TEST(b.offer(store.rows.at(r->kept_id), 2) == "run-b");  // the copy a announced: b's await claims it
  BOOST_TEST(waiting.value() == json({{"n", 1}}));
  BOOST_TEST(store.rows.at(100).taken_by == "run-b");
  BOOST_TEST(a.kept() == 1u);  // a's copy is still there, but claimed: an await on a skips it
  a.wait("run-a", "k", nullptr, second.r, 3);
  BOOST_TEST(!second.answered());
  BOOST_TEST(a.kept() == 0u);
  BOOST_TEST(a.waiting() == 1u);
}

BOOST_AUTO_TEST_CASE(an_offered_signal_nobody_waits_for_is_kept_once_and_taken_by_the_next_await) {
  memory_keeper store;
  signal_board a(60000, 10, &store), b(60000, 10, &store);
  auto r = a.signal("k", "hello", 0);
  BOOST_REQUIRE(r);
  auto row = store.rows.at(r->kept_id);
  BOOST_TEST(b.offer(row, 1).empty());
  BOOST_TEST(b.offer(row, 1).empty());  // announced twice, or read at the start too: held once
  BOOST_TEST(b.kept() == 1u);
  answer_box late;
  b.wait("run-b", "k", nullptr, late.r, 2);
  BOOST_TEST(late.value() == "hello");
  BOOST_TEST(b.offer(row, 70000).empty());  // past limits.signalKeepMs: not taken
  auto schema_refused = a.signal("strict", "not an object", 3);
  answer_box strict;
  b.wait("run-s", "strict", amount_schema, strict.r, 4);
  BOOST_TEST(b.offer(store.rows.at(schema_refused->kept_id), 5).empty());  // does not fit: the await keeps waiting
  BOOST_TEST(!strict.answered());
  BOOST_TEST(store.rows.at(schema_refused->kept_id).taken_by.empty());
}

BOOST_AUTO_TEST_CASE(a_signal_the_store_cannot_keep_is_refused_unavailable) {
  memory_keeper store;
  store.failing = true;
  signal_board b(60000, 10, &store);
  auto r = b.signal("k", 1, 0);
  BOOST_TEST(r.error().code == codes::unavailable);
  BOOST_TEST(b.kept() == 0u);
}

BOOST_AUTO_TEST_CASE(schemas_outside_the_subset_are_refused_with_a_pointer) {
  BOOST_TEST(static_cast<bool>(schema::check(amount_schema, "/input/schema")));
  auto e = schema::check(json::parse(R"({"type":"object","properties":{"a":{"pattern":"x"}}})"), "/input/schema");
  BOOST_TEST(e.error().path == "/input/schema/properties/a/pattern");
  BOOST_TEST(schema::check(json::parse(R"({"type":"date"})"), "").error().path == "/type");
  BOOST_TEST(schema::check(json::parse(R"({"minLength":-1})"), "").error().path == "/minLength");
  BOOST_TEST(schema::check(json::parse(R"({"enum":[]})"), "").error().path == "/enum");
  BOOST_TEST(schema::check(json::parse(R"({"required":"a"})"), "").error().path == "/required");
}

BOOST_AUTO_TEST_CASE(values_are_checked_by_every_keyword_of_the_subset) {
  auto s = json::parse(R"({"type":"object","properties":{
    "name":{"type":"string","minLength":2,"maxLength":4},
    "tags":{"type":"array","items":{"enum":["a","b"]}},
    "n":{"type":["integer","null"]}}})");
  auto at = [&](const char* v) {
    auto r = schema::validate(s, json::parse(v), "/payload");
    return r ? std::string("ok") : r.error().path;
  };
  BOOST_TEST(at(R"({"name":"bob","tags":["a","b"],"n":null})") == "ok");
  BOOST_TEST(at(R"({"name":"b"})") == "/payload/name");
  BOOST_TEST(at(R"({"name":"bobby"})") == "/payload/name");
  BOOST_TEST(at(R"({"name":"äöüß"})") == "ok");  // characters, not bytes
  BOOST_TEST(at(R"({"tags":["a","c"]})") == "/payload/tags/1");
  BOOST_TEST(at(R"({"n":1.5})") == "/payload/n");
  BOOST_TEST(at(R"({"n":2})") == "ok");
  BOOST_TEST(at(R"([1])") == "/payload");
}

BOOST_AUTO_TEST_SUITE_END()

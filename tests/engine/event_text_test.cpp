// The fast event text of the PUB socket says exactly what to_json says, large values as blob
// references (docs/protocol.md, "Blobs").
#include <boost/test/unit_test.hpp>

#include "core/blob.hpp"
#include "../records.hpp"
#include "core/event_text.hpp"
#include "engine_fixture.hpp"
#include "protocol/request_handler.hpp"

using namespace coworker;

BOOST_AUTO_TEST_SUITE(event_text)

BOOST_AUTO_TEST_CASE(envelope_text_matches_to_json_and_carries_large_values_by_reference) {
  value_text_cache cache(2);
  value_forms forms(64 * 1024);
  auto shared = share(json{{"k", "v"}, {"n", 1}});
  run_record r;
  r.id = "run-1";
  r.chain_id = "run-0";
  r.operation = "log";
  r.status = run_status::completed;
  r.input = shared;
  r.output = shared;
  r.err = run_error{"x", "y", "run-1", "log", ""};
  event e{5, "ep-1", 99, event_kind::after_run, std::make_shared<run_record>(r), "node-test"};
  for (int i = 0; i < 3; ++i)  // cached and uncached alike
    BOOST_TEST(json::parse(envelope_text(e, forms, cache)) == to_json(e, forms));
  BOOST_TEST(to_json(e, forms) == to_json(e));  // small values: whole
  r.output = share(json{{"big", std::string(100 * 1024, 'x')}});
  event big{6, "ep-1", 100, event_kind::after_run, std::make_shared<run_record>(r), "node-test"};
  auto text = envelope_text(big, forms, cache);
  BOOST_TEST(text.size() < 64 * 1024u);
  auto parsed = json::parse(text);
  BOOST_TEST(parsed == to_json(big, forms));
  // Its large member is put aside; the object around it stays (docs/store.md, "Blobs").
  BOOST_TEST(blob::is_ref(parsed["run"]["output"]["big"]));
  BOOST_TEST(parsed["run"]["output"]["big"]["bytes"] == 100 * 1024 + 2);
  BOOST_TEST(parsed["run"]["input"] == json({{"k", "v"}, {"n", 1}}));
  BOOST_TEST(!parsed["run"].contains("truncated"));
}

// The cache decides once per value whether it is within half the budget; a value past that half is
// still weighed against the other value of each record that carries it (rule 2 of value_forms.hpp).
BOOST_AUTO_TEST_CASE(a_value_cached_once_is_weighed_again_with_each_records_other_value) {
  value_text_cache cache;
  value_forms forms(64 * 1024);  // a budget of 60 KiB: half is 30 KiB
  auto small = share(json{{"k", "v"}});
  auto mid = share(json{{"m", std::string(36 * 1024, 'm')}});
  auto larger = share(json{{"l", std::string(40 * 1024, 'l')}});
  auto envelope = [](std::uint64_t seq, value_ptr in, value_ptr out) {
    run_record r;
    r.id = "run-" + std::to_string(seq);
    r.chain_id = "run-0";
    r.operation = "echo";
    r.status = run_status::completed;
    r.input = std::move(in);
    r.output = std::move(out);
    return event{seq, "ep-1", 1, event_kind::after_run, std::make_shared<run_record>(r), "node-test"};
  };
  for (int i = 0; i < 2; ++i) {  // the second round from the cache
    auto alone = envelope(1, mid, small);
    auto parsed = json::parse(envelope_text(alone, forms, cache));
    BOOST_TEST(parsed == to_json(alone, forms));
    BOOST_TEST(parsed["run"]["input"] == *mid);  // within the budget with a small partner: whole
    auto both = envelope(2, mid, larger);
    parsed = json::parse(envelope_text(both, forms, cache));
    BOOST_TEST(parsed == to_json(both, forms));
    BOOST_TEST(parsed["run"]["input"] == *mid);
    BOOST_TEST(blob::is_ref(parsed["run"]["output"]));  // together past the budget: the larger one aside
    auto plain = envelope(3, small, small);
    BOOST_TEST(json::parse(envelope_text(plain, forms, cache)) == to_json(plain));
  }
  // A value past the budget is carried as its reference: the cache holds that, never the value.
  value_text_cache fresh;
  auto huge = envelope(4, share(json{{"h", std::string(100 * 1024, 'h')}}), nullptr);
  auto parsed = json::parse(envelope_text(huge, forms, fresh));
  BOOST_TEST(parsed == to_json(huge, forms));
  BOOST_TEST(blob::is_ref(parsed["run"]["input"]["h"]));
  BOOST_TEST(fresh.size() == 1u);
}

BOOST_AUTO_TEST_CASE(record_text_writes_every_member_to_json_writes) {
  value_text_cache cache;
  value_forms forms(64 * 1024);
  auto r = test::record_with_every_member();
  r.operation = "op \"quoted\" \\ é \x01";
  r.err->message = "bad \xff byte";
  // What a client reads: the text of to_json (an invalid UTF-8 byte becomes U+FFFD in both).
  BOOST_TEST(json::parse(record_text(r, forms, cache)) == json::parse(dump(to_json(r))));
  BOOST_TEST(json::parse(record_text(run_record{}, forms, cache)) == to_json(run_record{}));
}

BOOST_FIXTURE_TEST_CASE(the_wait_reply_as_text_says_what_the_json_reply_says, test::engine_fixture) {
  // Nested chains, a group, a forEach, a skipped step, a recovered failure and a value past
  // limits.blobBytes (carried as a reference in both).
  auto chain = json::parse(R"({"operation":"run","input":{"items":[1,2,3]},"children":[
      {"id":"a","operation":"echo","input":{"text":"quote \" and \\ and \u00e9"}},
      {"id":"g","parallel":["x","y"],"operations":[{"id":"x","operation":"echo"},{"id":"y","operation":"add"}]},
      {"id":"e","forEach":"{{input.items}}","as":"n","do":{"operation":"add","input":{"n":"{{n}}"}}},
      {"id":"s","operation":"echo","if":"1 == 2"},
      {"id":"f","operation":"fail","onError":{"operation":"echo","input":"caught"}},
      {"id":"c","operation":"run","children":[{"id":"inner","operation":"echo","input":"{{a.output}}"}]}]})");
  submit_options big;
  big.input = json{{"items", {1, 2, 3}}, {"pad", std::string(100 * 1024, 'p')}};
  for (const auto& opts : {submit_options{}, big}) {
    auto id = eng.submit(chain, opts);
    BOOST_REQUIRE(id.has_value());
    test::ended(eng, id);
    value_text_cache cache;
    for (int i = 0; i < 2; ++i) {  // cached and uncached alike
      auto text = protocol::run_reply_text(eng, *id, json("req-7"), cache);
      BOOST_TEST(json::parse(text) == protocol::run_reply(eng, *id, json("req-7")));
    }
  }
  value_text_cache cache;
  BOOST_TEST(json::parse(protocol::run_reply_text(eng, "run-nope", nullptr, cache)) ==
             protocol::run_reply(eng, "run-nope", nullptr));
}

BOOST_FIXTURE_TEST_CASE(snapshot_and_list_replies_as_text_say_what_the_engine_gives, test::engine_fixture) {
  // What the daemon and the web view send for `snapshot` and `list`: written from the records as
  // text, the same content as engine::snapshot() and to_json of engine::list(), large values by
  // reference in both, the request's id echoed.
  submit_options big;
  big.input = json{{"pad", std::string(100 * 1024, 'p')}, {"note", "caf\u00e9 \"q\""}};
  auto chain = json::parse(R"({"operation":"run","children":[{"id":"a","operation":"echo"},{"id":"b","operation":"echo"}]})");
  for (const auto& opts : {submit_options{}, big}) {
    auto id = eng.submit(chain, opts);
    BOOST_REQUIRE(id.has_value());
    test::ended(eng, id);
  }
  auto snap = protocol::handle_request(eng, std::string_view(R"({"type":"snapshot","recent":10,"id":7})"));
  BOOST_REQUIRE(!snap.reply_text.empty());
  auto got = json::parse(snap.reply_text);
  BOOST_TEST(got["ok"] == true);
  BOOST_TEST(got["id"] == 7);
  got.erase("ok");
  got.erase("id");
  auto want = eng.snapshot(10);
  BOOST_TEST(want["runs"].size() == 6u);
  BOOST_TEST(got == json::parse(dump(want)));

  auto list = protocol::handle_request(eng, std::string_view(R"({"type":"list","roots":true})"));
  BOOST_REQUIRE(!list.reply_text.empty());
  auto listed = json::parse(list.reply_text);
  BOOST_TEST(listed["ok"] == true);
  BOOST_TEST(!listed.contains("id"));
  json records = json::array();
  list_query q;
  q.roots_only = true;
  for (const auto& r : eng.list(q)) records.push_back(to_json(r, eng.forms()));
  BOOST_TEST(records.size() == 2u);
  BOOST_TEST(listed["runs"] == records);
}

BOOST_AUTO_TEST_SUITE_END()

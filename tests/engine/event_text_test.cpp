// The fast event text of the PUB socket says exactly what to_json says, large values as blob
// references (docs/protocol.md, "Blobs").
#include <boost/test/unit_test.hpp>

#include "core/blob.hpp"
#include "core/event_text.hpp"

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
  event e{5, "ep-1", 99, event_kind::after_run, std::make_shared<run_record>(r)};
  for (int i = 0; i < 3; ++i)  // cached and uncached alike
    BOOST_TEST(json::parse(envelope_text(e, forms, cache)) == to_json(e, forms));
  BOOST_TEST(to_json(e, forms) == to_json(e));  // small values: whole
  r.output = share(json{{"big", std::string(100 * 1024, 'x')}});
  event big{6, "ep-1", 100, event_kind::after_run, std::make_shared<run_record>(r)};
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

BOOST_AUTO_TEST_SUITE_END()

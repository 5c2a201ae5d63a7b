// The fast event text of the PUB socket says exactly what to_json says.
#include <boost/test/unit_test.hpp>

#include "core/event_text.hpp"

using namespace coworker;

BOOST_AUTO_TEST_SUITE(event_text)

BOOST_AUTO_TEST_CASE(envelope_text_matches_to_json_and_cuts_large_values) {
  value_text_cache cache(2);
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
    BOOST_TEST(json::parse(envelope_text(e, 64 * 1024, cache)) == to_json(e, 64 * 1024));
  r.output = share(json{{"big", std::string(5000, 'x')}});
  event big{6, "ep-1", 100, event_kind::before_run, std::make_shared<run_record>(r)};
  auto parsed = json::parse(envelope_text(big, 1000, cache));
  BOOST_TEST(parsed == to_json(big, 1000));
  BOOST_TEST(parsed["run"]["truncated"] == true);
  BOOST_TEST(parsed["run"]["output"]["truncated"] == true);
  BOOST_TEST(parsed["run"]["input"] == json({{"k", "v"}, {"n", 1}}));
}

BOOST_AUTO_TEST_SUITE_END()

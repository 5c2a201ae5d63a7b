// retry_delay: delayMs × backoff^(n-1), capped by maxDelayMs and by 365 days, never negative.
#include <boost/test/unit_test.hpp>

#include <limits>

#include "run/retry.hpp"

using namespace coworker;

namespace {

chain::retry_policy policy(double delay, double backoff, double max_delay) {
  chain::retry_policy p;
  p.max = 10;
  p.delay_ms = delay;
  p.backoff = backoff;
  p.max_delay_ms = max_delay;
  return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(retry)

BOOST_AUTO_TEST_CASE(delay_grows_by_backoff_up_to_max_delay) {
  auto p = policy(100, 2, 1000);
  BOOST_TEST(retry_delay(p, 1, "x", 0.5)->count() == 100);
  BOOST_TEST(retry_delay(p, 3, "x", 0.5)->count() == 400);
  BOOST_TEST(retry_delay(p, 9, "x", 0.5)->count() == 1000);
  BOOST_TEST(!retry_delay(p, 11, "x", 0.5));
  BOOST_TEST(!retry_delay(p, 1, codes::cancelled, 0.5));
}

BOOST_AUTO_TEST_CASE(huge_delays_are_capped_at_365_days_not_overflowed) {
  // Each of these overflowed the conversion to integer milliseconds (undefined behaviour;
  // tests/fixtures/fuzz/request/retry-delay-overflow).
  const auto year = chain::max_duration_ms;
  BOOST_TEST(retry_delay(policy(1e300, 1, 1e300), 1, "x", 0.5)->count() == year);
  BOOST_TEST(retry_delay(policy(200, 1e300, 1e308), 5, "x", 0.5)->count() == year);
  auto jitter = policy(1e300, 1, 1e300);
  jitter.jitter = true;
  for (double draw : {0.0, 0.5, 0.999999}) {
    auto d = retry_delay(jitter, 1, "x", draw);
    BOOST_TEST((d->count() >= 0 && d->count() <= year));
  }
  // 0 × inf is NaN: no delay, not garbage.
  BOOST_TEST(retry_delay(policy(0, 1e300, 1e308), 5, "x", 0.5)->count() == 0);
}

BOOST_AUTO_TEST_CASE(jitter_scales_the_delay_by_the_draw) {
  auto p = policy(1000, 1, 1000);
  p.jitter = true;
  BOOST_TEST(retry_delay(p, 1, "x", 0.0)->count() == 0);
  BOOST_TEST(retry_delay(p, 1, "x", 0.25)->count() == 250);
  BOOST_TEST(retry_delay(p, 1, "x", 0.999)->count() == 999);
  p.jitter = false;
  BOOST_TEST(retry_delay(p, 1, "x", 0.25)->count() == 1000);  // the draw matters only with jitter
}

BOOST_AUTO_TEST_CASE(retry_on_lists_the_codes_that_are_retried) {
  auto p = policy(10, 1, 10);
  p.retry_on = {"timeout"};
  BOOST_TEST(retry_delay(p, 1, "timeout", 0.5).has_value());
  BOOST_TEST(!retry_delay(p, 1, "handler_error", 0.5).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

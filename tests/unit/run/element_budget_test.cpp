// limits.chainElements decided when a forEach starts (run/element_budget.hpp): the same answer
// for the same document every time, before any element runs.
#include <boost/test/unit_test.hpp>

#include <cstdint>

#include "run/element_budget.hpp"

using namespace coworker;

BOOST_AUTO_TEST_SUITE(element_budget)

BOOST_AUTO_TEST_CASE(a_forEach_past_the_limit_fails_whatever_runs_elsewhere) {
  auto over = for_each_width(1, 25000, 0, 20000);
  BOOST_REQUIRE(!over);
  BOOST_TEST(over.error().code == "too_large");
  BOOST_TEST(over.error().message.find("limits.chainElements (20000)") != std::string::npos);
  BOOST_TEST(over.error().message.find("25000 elements") != std::string::npos);
  auto at = for_each_width(1, 20000, 0, 20000);
  BOOST_REQUIRE(at);
  BOOST_TEST(*at == 20000u);
}

BOOST_AUTO_TEST_CASE(concurrency_bounds_the_width) {
  auto w = for_each_width(1, 100000, 50, 20000);
  BOOST_REQUIRE(w);
  BOOST_TEST(*w == 50u);
  BOOST_TEST(*for_each_width(1, 3, 50, 20000) == 3u);  // fewer items than the concurrency
}

BOOST_AUTO_TEST_CASE(nested_widths_multiply) {
  // 1,500 × 1,500: the outer forEach starts, each inner one fails before its elements run.
  auto outer = for_each_width(1, 1500, 0, 20000);
  BOOST_REQUIRE(outer);
  auto inner = for_each_width(*outer, 1500, 0, 20000);
  BOOST_REQUIRE(!inner);
  BOOST_TEST(inner.error().message.find("in each of 1500 enclosing runs") != std::string::npos);
  // Inside a parallel group of 4 members: 4 × 5,000 fits, 4 × 5,001 does not.
  BOOST_TEST(for_each_width(saturating_product(1, 4), 5000, 0, 20000).has_value());
  BOOST_TEST(!for_each_width(saturating_product(1, 4), 5001, 0, 20000).has_value());
}

BOOST_AUTO_TEST_CASE(no_overflow_and_no_cap) {
  BOOST_TEST(saturating_product(SIZE_MAX / 2, 3) == SIZE_MAX);
  BOOST_TEST(!for_each_width(SIZE_MAX, 2, 0, 20000).has_value());
  BOOST_TEST(*for_each_width(SIZE_MAX, 2, 0, 0) == SIZE_MAX);  // 0: no cap
  BOOST_TEST(*for_each_width(0, 7, 0, 20000) == 7u);            // a width of 0 counts as 1
}

BOOST_AUTO_TEST_SUITE_END()

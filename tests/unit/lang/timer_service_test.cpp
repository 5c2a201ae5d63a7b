// timer_service: callbacks fire in deadline order on the timer thread; a cancelled timer drops its
// callback (and what it holds) at once, which is what lets a finished run actor go although its
// hour-long default step timeout has not come up (docs/durability.md, "History").
#include <boost/test/unit_test.hpp>

#include <future>
#include <memory>

#include "core/timer_service.hpp"

using namespace coworker;

BOOST_AUTO_TEST_SUITE(timers)

BOOST_AUTO_TEST_CASE(cancelled_timer_releases_what_it_holds_at_once) {
  timer_service t;
  auto held = std::make_shared<int>(7);
  auto id = t.after(std::chrono::hours(1), [held] {});
  BOOST_TEST(held.use_count() == 2);
  BOOST_TEST(t.pending() == 1u);
  t.cancel(id);
  BOOST_TEST(held.use_count() == 1);
  BOOST_TEST(t.pending() == 0u);
  t.cancel(id);  // a second cancel changes nothing
}

BOOST_AUTO_TEST_CASE(many_cancelled_timers_leave_nothing_pending_and_the_rest_still_fire) {
  timer_service t;
  std::vector<timer_service::id> ids;
  for (int i = 0; i < 5000; ++i) ids.push_back(t.after(std::chrono::hours(1), [] {}));
  std::promise<int> fired;
  t.after(std::chrono::milliseconds(0), [&] { fired.set_value(42); });
  for (auto id : ids) t.cancel(id);
  auto f = fired.get_future();
  BOOST_REQUIRE(f.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
  BOOST_TEST(f.get() == 42);
  BOOST_TEST(t.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(timers_fire_in_deadline_order) {
  timer_service t;
  std::mutex mu;
  std::vector<int> order;
  std::promise<void> done;
  t.after(std::chrono::milliseconds(30), [&] {
    std::lock_guard lock(mu);
    order.push_back(2);
    done.set_value();
  });
  t.after(std::chrono::milliseconds(0), [&] {
    std::lock_guard lock(mu);
    order.push_back(1);
  });
  BOOST_REQUIRE(done.get_future().wait_for(std::chrono::seconds(60)) == std::future_status::ready);
  std::lock_guard lock(mu);
  BOOST_TEST(order == (std::vector<int>{1, 2}));
}

BOOST_AUTO_TEST_SUITE_END()

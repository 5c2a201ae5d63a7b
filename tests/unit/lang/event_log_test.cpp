// The event log without threads: held events are invisible to readers until marked durable,
// pinned cursors keep what they have not read, readers past the window are told to resync.
#include <boost/test/unit_test.hpp>

#include "core/event_log.hpp"

using namespace coworker;

namespace {

event ev(std::uint64_t seq) {
  event e;
  e.seq = seq;
  e.epoch = "ep-test";
  auto r = std::make_shared<run_record>();
  r->id = "run-" + std::to_string(seq);
  e.run = r;
  return e;
}

std::vector<std::uint64_t> seqs(const std::vector<const event*>& v) {
  std::vector<std::uint64_t> out;
  for (const auto* e : v) out.push_back(e->seq);
  return out;
}

}  // namespace

namespace coworker {
std::ostream& operator<<(std::ostream& os, event_log::status s) {
  const char* names[] = {"events", "resync", "timeout", "closed"};
  return os << names[static_cast<int>(s)];
}
}  // namespace coworker

BOOST_AUTO_TEST_SUITE(event_log_rules)

BOOST_AUTO_TEST_CASE(held_events_are_invisible_until_marked_durable) {
  event_log log(0);
  int wakes = 0;
  auto c = log.open(0, [&] { ++wakes; });
  for (std::uint64_t s = 1; s <= 3; ++s) log.append(ev(s), /*durable=*/false);
  std::vector<const event*> got;
  BOOST_TEST(log.peek(c, got, 10) == 0u);  // nothing durable: the cursor is armed
  BOOST_TEST(log.read_after(0, std::chrono::milliseconds(0)).st == event_log::status::timeout);
  std::vector<const event*> held;
  log.held(0, 3, held);
  BOOST_TEST(seqs(held) == (std::vector<std::uint64_t>{1, 2, 3}));
  log.mark_durable(2);
  BOOST_TEST(wakes == 1);
  BOOST_TEST(log.durable_seq() == 2u);
  BOOST_TEST(log.peek(c, got, 10) == 2u);
  BOOST_TEST(seqs(got) == (std::vector<std::uint64_t>{1, 2}));
  log.advance(c, 2);
  got.clear();
  BOOST_TEST(log.peek(c, got, 10) == 0u);
  log.mark_durable(3);
  BOOST_TEST(wakes == 2);  // one wake per arming
  log.mark_durable(3);
  BOOST_TEST(wakes == 2);
}

BOOST_AUTO_TEST_CASE(memory_mode_events_are_readable_at_once) {
  event_log log(0);
  int wakes = 0;
  auto c = log.open(0, [&] { ++wakes; });
  std::vector<const event*> got;
  BOOST_TEST(log.peek(c, got, 10) == 0u);
  log.append(ev(1), /*durable=*/true);
  BOOST_TEST(wakes == 1);
  BOOST_TEST(log.peek(c, got, 10) == 1u);
  BOOST_TEST(log.durable_seq() == 1u);
}

BOOST_AUTO_TEST_CASE(a_pinned_cursor_keeps_what_it_has_not_read) {
  event_log log(0, /*window=*/2);
  auto c = log.open(0, {});
  for (std::uint64_t s = 1; s <= 100; ++s) log.append(ev(s), true);
  BOOST_TEST(log.size() == 100u);  // the cursor has read nothing
  std::vector<const event*> got;
  BOOST_TEST(log.peek(c, got, 1000) == 100u);
  log.advance(c, 100);
  BOOST_TEST(log.size() == 2u);  // the window after the cursor
  log.close(c);
  for (std::uint64_t s = 101; s <= 110; ++s) log.append(ev(s), true);
  BOOST_TEST(log.size() == 2u);  // no cursor: just the window
}

BOOST_AUTO_TEST_CASE(held_events_are_never_trimmed) {
  event_log log(0, /*window=*/1);
  for (std::uint64_t s = 1; s <= 50; ++s) log.append(ev(s), false);
  BOOST_TEST(log.size() == 50u);
  log.mark_durable(50);
  BOOST_TEST(log.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_cursor_opens_within_what_is_durable) {
  event_log log(10);
  for (std::uint64_t s = 11; s <= 12; ++s) log.append(ev(s), true);
  log.append(ev(13), false);
  auto c = log.open(99, {});  // past what is published: from the durable end
  BOOST_TEST(log.position(c) == 12u);
  auto early = log.open(0, {});  // before the log's first event: from its start
  BOOST_TEST(log.position(early) == 10u);
}

BOOST_AUTO_TEST_CASE(readers_replay_after_a_seq_and_resync_past_the_window) {
  event_log log(0, /*window=*/4);
  for (std::uint64_t s = 1; s <= 10; ++s) log.append(ev(s), true);  // keeps 7..10
  auto r = log.read_after(7, std::chrono::milliseconds(0));
  BOOST_REQUIRE(r.st == event_log::status::events);
  BOOST_TEST(r.events.size() == 3u);
  BOOST_TEST(r.events.front().seq == 8u);
  BOOST_TEST(log.read_after(6, std::chrono::milliseconds(0)).events.size() == 4u);
  BOOST_TEST(log.read_after(5, std::chrono::milliseconds(0)).st == event_log::status::resync);
  BOOST_TEST(log.read_after(10, std::chrono::milliseconds(5)).st == event_log::status::timeout);
  BOOST_TEST(log.read_after(11, std::chrono::milliseconds(0)).st == event_log::status::resync);  // from the future
  BOOST_TEST(log.read_after(6, std::chrono::milliseconds(0), 2).events.size() == 2u);
  log.close_readers();
  BOOST_TEST(log.read_after(10, std::chrono::seconds(5)).st == event_log::status::closed);
}

BOOST_AUTO_TEST_CASE(readers_before_the_first_seq_resync) {
  event_log log(10);
  BOOST_TEST(log.read_after(4, std::chrono::milliseconds(0)).st == event_log::status::resync);
  BOOST_TEST(log.read_after(10, std::chrono::milliseconds(0)).st == event_log::status::timeout);
  log.append(ev(11), true);
  BOOST_TEST(log.read_after(10, std::chrono::milliseconds(0)).events.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

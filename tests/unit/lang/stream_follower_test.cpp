// Following the events of several nodes (docs/cluster.md, "Events") without sockets: each stream
// is checked on its own — a gap or a new epoch in one resyncs that one only; what a snapshot holds
// is dropped; a filtered subscription notices epochs, not gaps.
#include <boost/test/unit_test.hpp>

#include "core/stream_follower.hpp"

using namespace coworker;
using verdict = stream_follower::verdict;

namespace coworker {
std::ostream& operator<<(std::ostream& os, verdict v) {
  return os << (v == verdict::apply ? "apply" : v == verdict::drop ? "drop" : "resync");
}
}  // namespace coworker

BOOST_AUTO_TEST_SUITE(stream_follower_rules)

BOOST_AUTO_TEST_CASE(events_before_a_snapshot_ask_for_one_and_those_it_holds_are_dropped) {
  stream_follower f(2, true);
  BOOST_TEST(f.event(0, "ep-a", 1) == verdict::resync);
  BOOST_TEST(f.heartbeat(1, "ep-b", 0) == verdict::resync);
  f.snapshot(0, "ep-a", 10);
  BOOST_TEST(f.event(0, "ep-a", 9) == verdict::drop);
  BOOST_TEST(f.event(0, "ep-a", 10) == verdict::drop);
  BOOST_TEST(f.event(0, "ep-a", 11) == verdict::apply);
  BOOST_TEST(f.seq(0) == 11u);
  BOOST_TEST(f.event(1, "ep-b", 1) == verdict::resync);  // stream 1 still has no snapshot
}

BOOST_AUTO_TEST_CASE(each_stream_counts_its_own_seq_and_a_gap_in_one_resyncs_only_that_one) {
  stream_follower f(3, true);
  f.snapshot(0, "ep-a", 100);
  f.snapshot(1, "ep-b", 5);
  f.snapshot(2, "ep-c", 0);
  BOOST_TEST(f.event(0, "ep-a", 101) == verdict::apply);
  BOOST_TEST(f.event(1, "ep-b", 6) == verdict::apply);  // seqs of different nodes never mix
  BOOST_TEST(f.event(2, "ep-c", 1) == verdict::apply);
  BOOST_TEST(f.event(1, "ep-b", 8) == verdict::resync);  // 7 was lost
  BOOST_TEST(f.seq(1) == 6u);
  BOOST_TEST(f.event(0, "ep-a", 102) == verdict::apply);  // the others go on
  f.snapshot(1, "ep-b", 8);
  BOOST_TEST(f.event(1, "ep-b", 8) == verdict::drop);  // offered again: the snapshot holds it
  BOOST_TEST(f.event(1, "ep-b", 9) == verdict::apply);
}

BOOST_AUTO_TEST_CASE(a_heartbeat_ahead_or_of_a_new_epoch_is_a_resync_and_a_restart_is_a_new_epoch) {
  stream_follower f(2, true);
  f.snapshot(0, "ep-a", 7);
  f.snapshot(1, "ep-b", 3);
  BOOST_TEST(f.heartbeat(0, "ep-a", 7) == verdict::drop);
  BOOST_TEST(f.heartbeat(0, "ep-a", 8) == verdict::resync);  // event 8 went out and never came
  BOOST_TEST(f.heartbeat(1, "ep-b2", 3) == verdict::resync);  // node b restarted
  BOOST_TEST(f.event(1, "ep-b2", 4) == verdict::resync);
  f.snapshot(1, "ep-b2", 4);
  BOOST_TEST(f.epoch(1) == "ep-b2");
  BOOST_TEST(f.event(1, "ep-b", 4) == verdict::resync);  // a late event of the old epoch, offered again
  BOOST_TEST(f.event(1, "ep-b2", 5) == verdict::apply);
  BOOST_TEST(f.epoch(0) == "ep-a");  // untouched by b's restart
}

BOOST_AUTO_TEST_CASE(a_filtered_subscription_sees_gaps_by_design_and_notices_only_new_epochs) {
  stream_follower f(1, false);
  f.snapshot(0, "ep-a", 10);
  BOOST_TEST(f.event(0, "ep-a", 15) == verdict::apply);  // one chain's events skip the others' seqs
  BOOST_TEST(f.heartbeat(0, "ep-a", 40) == verdict::drop);
  BOOST_TEST(f.event(0, "ep-a", 12) == verdict::drop);
  BOOST_TEST(f.heartbeat(0, "ep-z", 40) == verdict::resync);
}

BOOST_AUTO_TEST_CASE(a_stream_out_of_range_is_an_error_not_a_crash) {
  stream_follower f(1, true);
  BOOST_CHECK_THROW(f.event(1, "ep", 1), std::out_of_range);
  BOOST_CHECK_THROW(f.snapshot(2, "ep", 1), std::out_of_range);
}

BOOST_AUTO_TEST_SUITE_END()

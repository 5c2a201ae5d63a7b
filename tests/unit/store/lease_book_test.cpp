// The lease rules of a cluster (docs/cluster.md, "Leases and fencing") on a real PostgreSQL 15, driven
// step by step: books are nodes, a lease expires because the test moves its row into the past (no
// sleeping for leaseMs), a node dies because its connection closes.
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "cluster/lease_book.hpp"
#include "runs/run_store.hpp"
#include "store/database.hpp"
#include "../../postgres.hpp"

using namespace coworker;
using cluster::lease;
using cluster::lease_book;

namespace {

std::unique_ptr<store::sql::database> connect(const std::string& url) {
  auto db = store::sql::open(url, "the test");
  if (!db) BOOST_FAIL(db.error().message);
  return std::move(*db);
}

/// A database with the store's tables (what run_store::open makes), and a node per book.
struct cluster_fixture {
  test::postgres_database pg;
  std::unique_ptr<run_store> tables = [this] {
    auto s = run_store::open(pg.url());
    if (!s) BOOST_FAIL(s.error().message);
    return std::move(*s);
  }();
  std::unique_ptr<store::sql::database> admin = connect(pg.url());

  std::unique_ptr<lease_book> node(const std::string& name) {
    return std::make_unique<lease_book>(connect(pg.url()), "owner-" + name, name, 5000);
  }
  void sql(const std::string& text) {
    auto r = admin->exec(text);
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message));
  }
  std::int64_t number(const std::string& text) {
    auto q = admin->prepare(text);
    BOOST_TEST_REQUIRE((q && q->next() == store::sql::step::row), admin->error_message());
    return q->integer(0);
  }
  /// What another node sees when `partition`'s lease runs out: its expiry in the past.
  void expire(int partition) {
    sql("UPDATE leases SET expires = now() - interval '1 second' WHERE partition = " + std::to_string(partition));
  }
  void chain_in(int partition, const std::string& id, bool ended = false) {
    sql("INSERT INTO chains(root_id, document, ended, partition) VALUES('" + id + "', '{}', " + (ended ? "1" : "0") + ", " +
        std::to_string(partition) + ")");
  }
};

template <class T>
T value(expected<T> r) {
  if (!r) BOOST_FAIL(r.error().message);
  return std::move(*r);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(leases, cluster_fixture)

BOOST_AUTO_TEST_CASE(each_node_takes_the_lowest_free_partition_and_a_released_one_is_taken_at_the_next_epoch) {
  auto a = node("a");
  auto b = node("b");
  BOOST_TEST((value(a->take_home()) == lease{0, 1}));
  BOOST_TEST((value(b->take_home()) == lease{1, 1}));
  BOOST_TEST(a->home() == 0);
  BOOST_TEST(b->holds(1));
  BOOST_TEST(!b->holds(0));
  BOOST_TEST(a->release().has_value());
  auto c = node("c");
  BOOST_TEST((value(c->take_home()) == lease{0, 2}));  // a's, one epoch on
  BOOST_TEST(number("SELECT count(*) FROM leases") == 2);
}

BOOST_AUTO_TEST_CASE(a_held_lease_is_not_taken_an_expired_one_with_chains_in_flight_is_and_its_old_owner_is_fenced) {
  auto a = node("a");
  auto b = node("b");
  (void)value(a->take_home());
  (void)value(b->take_home());
  chain_in(0, "run-a1");
  chain_in(0, "run-a2", true);
  BOOST_TEST(value(b->take_over()).empty());  // a's lease holds
  expire(0);
  auto taken = value(b->take_over());
  BOOST_TEST_REQUIRE(taken.size() == 1u);
  BOOST_TEST((taken[0] == lease{0, 2}));
  BOOST_TEST(b->holds(0));
  // a wakes up: its writes are refused, and its renewal tells it what it lost.
  auto check = a->check(*admin);
  BOOST_TEST_REQUIRE(!check.has_value());
  BOOST_TEST(check.error().message.find("partition 0 (epoch 1) is no longer this node's") != std::string::npos,
             check.error().message);
  auto lost = value(a->renew());
  BOOST_TEST_REQUIRE(lost.size() == 1u);
  BOOST_TEST(lost[0] == 0);
  // Fenced for good: a check after the renewal fails too (it does not pass for holding nothing).
  auto again = a->check(*admin);
  BOOST_TEST_REQUIRE(!again.has_value());
  BOOST_TEST(again.error().message.find("this node lost a lease") != std::string::npos, again.error().message);
  BOOST_TEST(value(b->renew()).empty());
  BOOST_TEST(b->check(*admin).has_value());
}

BOOST_AUTO_TEST_CASE(an_expired_partition_without_chains_in_flight_is_left_for_a_new_node) {
  auto a = node("a");
  auto b = node("b");
  (void)value(a->take_home());
  (void)value(b->take_home());
  chain_in(0, "run-done", true);
  expire(0);
  BOOST_TEST(value(b->take_over()).empty());
  auto c = node("c");
  BOOST_TEST((value(c->take_home()) == lease{0, 2}));
}

BOOST_AUTO_TEST_CASE(a_renewal_keeps_a_lease_that_ran_out_while_nobody_took_it) {
  auto a = node("a");
  (void)value(a->take_home());
  expire(0);
  BOOST_TEST(value(a->renew()).empty());
  BOOST_TEST(number("SELECT count(*) FROM leases WHERE expires > now()") == 1);
  auto b = node("b");
  BOOST_TEST((value(b->take_home()) == lease{1, 1}));
}

BOOST_AUTO_TEST_CASE(a_node_whose_session_is_gone_loses_its_partitions_at_once) {
  auto a = node("a");
  auto b = node("b");
  (void)value(a->take_home());
  (void)value(b->take_home());
  chain_in(0, "run-a1");
  a.reset();  // its connection closes without a release: as after kill -9
  // The server ends the session a moment after the connection closed.
  std::vector<lease> taken;
  for (int i = 0; i < 300 && taken.empty(); ++i) {
    taken = value(b->take_over());
    if (taken.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  BOOST_TEST_REQUIRE(taken.size() == 1u);
  BOOST_TEST((taken[0] == lease{0, 2}));
}

BOOST_AUTO_TEST_CASE(a_takeover_waits_for_the_old_owners_transaction_and_its_next_one_is_refused) {
  auto a = node("a");
  auto b = node("b");
  (void)value(a->take_home());
  (void)value(b->take_home());
  chain_in(0, "run-a1");
  expire(0);  // a's lease ran out, but nobody took it yet: a still writes
  auto writer = connect(pg.url());  // a's committer
  BOOST_TEST_REQUIRE(writer->begin().has_value());
  BOOST_TEST_REQUIRE(a->check(*writer).has_value());
  std::vector<lease> taken;
  std::string taker_error;  // asserted on this thread: Boost.Test's assertions are not thread-safe
  std::thread taker([&] {
    if (auto r = b->take_over()) taken = std::move(*r);
    else taker_error = r.error().message;
  });
  // b's takeover waits on the row a's transaction holds.
  bool waiting = false;
  for (int i = 0; i < 500 && !waiting; ++i) {
    waiting = number("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") > 0;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  BOOST_TEST(waiting);
  BOOST_TEST(taken.empty());
  BOOST_TEST(writer->exec("COMMIT").has_value());
  taker.join();
  BOOST_TEST_REQUIRE(taker_error.empty(), taker_error);
  BOOST_TEST_REQUIRE(taken.size() == 1u);
  BOOST_TEST(taken[0].epoch == 2);
  BOOST_TEST_REQUIRE(writer->begin().has_value());
  BOOST_TEST(!a->check(*writer).has_value());
  (void)writer->exec("ROLLBACK");
}

BOOST_AUTO_TEST_CASE(a_partition_taken_over_is_given_back_once_its_chains_ended_but_home_stays) {
  auto a = node("a");
  auto b = node("b");
  (void)value(a->take_home());
  (void)value(b->take_home());
  chain_in(0, "run-a1");
  expire(0);
  BOOST_TEST(value(b->take_over()).size() == 1u);
  BOOST_TEST(b->release_drained().has_value());
  BOOST_TEST(b->holds(0));  // run-a1 is still in flight
  sql("UPDATE chains SET ended = 1");
  BOOST_TEST(b->release_drained().has_value());
  BOOST_TEST(!b->holds(0));
  BOOST_TEST(b->holds(1));
  BOOST_TEST(number("SELECT count(*) FROM leases") == 1);
}

BOOST_AUTO_TEST_CASE(a_run_store_under_a_lost_lease_writes_nothing) {
  auto a = node("a");
  auto b = node("b");
  (void)value(a->take_home());
  (void)value(b->take_home());
  auto store_a = value(run_store::open(pg.url()));
  BOOST_TEST_REQUIRE(store_a->write_under(a.get(), 5000).has_value());
  run_record r;
  r.id = r.chain_id = "run-01";
  r.operation = "run";
  r.status = run_status::running;
  auto rec = std::make_shared<const run_record>(r);
  BOOST_TEST_REQUIRE(store_a->write(std::vector<event>{event{1, "ep", 1, event_kind::before_run, rec, "node-test"}}).has_value());
  chain_in(0, "run-a1");
  expire(0);
  BOOST_TEST(value(b->take_over()).size() == 1u);
  auto refused = store_a->write(std::vector<event>{event{2, "ep", 2, event_kind::after_run, rec, "node-test"}});
  BOOST_TEST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().message.find("another node took it over") != std::string::npos, refused.error().message);
  BOOST_TEST(number("SELECT count(*) FROM events") == 1);
}

BOOST_AUTO_TEST_SUITE_END()

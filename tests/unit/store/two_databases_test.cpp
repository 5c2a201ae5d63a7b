// The stores written against store::sql::database (docs/store.md, "Two databases") run the same cases
// on a real SQLite file and on a real PostgreSQL 15 server (a database of its own per case): run
// records, values, blobs, events, chains and keys; published chains and aliases, kept signals,
// schedules; what survives a reopen, and the errors a user sees.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "runs/definition_store.hpp"
#include "store/document_store.hpp"
#include "core/blob.hpp"
#include "core/value_forms.hpp"
#include "runs/postgresql_schema.hpp"
#include "runs/retention.hpp"
#include "runs/run_store.hpp"
#include "runs/schedule_store.hpp"
#include "runs/signal_store.hpp"
#include "store/database.hpp"
#include "store/postgresql_database.hpp"
#include "../../postgres.hpp"
#include "../../records.hpp"
#include "../../temp_dir.hpp"

using namespace coworker;

namespace {

/// One store location per case: a fresh SQLite file (its tables made by run_store::open, as a
/// durable engine does) or a fresh PostgreSQL database (tables made on first use).
struct backend {
  std::string name;
  std::function<std::string()> make;  // a new, empty store; its location
};

struct backends_fixture {
  std::vector<std::unique_ptr<test::temp_dir>> dirs;
  std::vector<std::unique_ptr<test::postgres_database>> databases;
  std::vector<backend> all() {
    return {{"sqlite",
             [this] {
               dirs.push_back(std::make_unique<test::temp_dir>("twodb"));
               auto path = dirs.back()->file("store.db");
               auto s = run_store::open(path);
               if (!s) throw std::runtime_error(s.error().message);
               return path;
             }},
            {"postgresql", [this] {
               databases.push_back(std::make_unique<test::postgres_database>());
               return databases.back()->url();
             }}};
  }
};

template <class T>
std::unique_ptr<T> opened(expected<std::unique_ptr<T>> r) {
  if (!r) BOOST_FAIL("open: " << r.error().message);
  return std::move(*r);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(two_databases, backends_fixture)

BOOST_AUTO_TEST_CASE(published_chains_and_aliases_in_the_order_written_and_after_a_reopen) {
  for (auto& b : all()) {
    BOOST_TEST_CONTEXT("on " << b.name) {
      const auto at = b.make();
      {
        auto s = opened(definition_store::open(at));
        // Written out of name order: load gives publish order, not key order.
        for (auto [name, version] : {std::pair{"zeta", 1}, {"alpha", 1}, {"zeta", 2}}) {
          auto r = s->put({name, version, json{{"chain", {{"operation", "noop"}}}, {"v", version}}});
          BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message));
        }
        auto again = s->put({"zeta", 2, json::object()});
        BOOST_TEST_REQUIRE(!again.has_value());  // a version is published once
        BOOST_TEST(again.error().code == codes::store_error);
        BOOST_TEST(again.error().message.find("cannot store a published chain") != std::string::npos);
        BOOST_TEST(s->alias({"zeta", "prod", 1}).has_value());
        BOOST_TEST(s->alias({"zeta", "prod", 2}).has_value());  // moves
        BOOST_TEST(s->alias({"alpha", "dev", 1}).has_value());
      }
      auto s = opened(definition_store::open(at));
      auto defs = s->load();
      BOOST_TEST_REQUIRE(defs.has_value());
      BOOST_TEST_REQUIRE(defs->size() == 3u);
      BOOST_TEST((*defs)[0].name == "zeta");
      BOOST_TEST((*defs)[0].version == 1);
      BOOST_TEST((*defs)[1].name == "alpha");
      BOOST_TEST((*defs)[2].version == 2);
      BOOST_TEST((*defs)[2].body["v"] == 2);
      BOOST_TEST((*defs)[2].body["chain"]["operation"] == "noop");
      auto aliases = s->aliases();
      BOOST_TEST_REQUIRE(aliases.has_value());
      BOOST_TEST_REQUIRE(aliases->size() == 2u);
      BOOST_TEST((*aliases)[0].name == "alpha");
      BOOST_TEST((*aliases)[1].alias == "prod");
      BOOST_TEST((*aliases)[1].version == 2);
    }
  }
}

BOOST_AUTO_TEST_CASE(kept_signals_are_numbered_taken_and_dropped) {
  for (auto& b : all()) {
    BOOST_TEST_CONTEXT("on " << b.name) {
      const auto at = b.make();
      std::vector<std::uint64_t> ids;
      {
        auto s = opened(signal_store::open(at));
        for (int i = 0; i < 3; ++i) {
          auto id = s->keep("order-" + std::to_string(i), json{{"n", i}, {"text", "é \"quoted\" ?1"}}, 1000 + i);
          BOOST_TEST_REQUIRE(id.has_value(), (id ? "" : id.error().message));
          ids.push_back(*id);
        }
        BOOST_TEST(ids[0] < ids[1]);
        BOOST_TEST(ids[1] < ids[2]);
        BOOST_TEST(s->take(ids[1], "run-7").has_value());
        BOOST_TEST(s->drop({ids[0]}).has_value());
      }
      auto s = opened(signal_store::open(at));
      auto rows = s->load();
      BOOST_TEST_REQUIRE(rows.has_value());
      BOOST_TEST_REQUIRE(rows->size() == 2u);
      BOOST_TEST((*rows)[0].id == ids[1]);
      BOOST_TEST((*rows)[0].key == "order-1");
      BOOST_TEST((*rows)[0].taken_by == "run-7");
      BOOST_TEST((*rows)[0].kept_at == 1001);
      BOOST_TEST((*(*rows)[1].payload)["text"] == "é \"quoted\" ?1");  // a marker inside a value is data
      BOOST_TEST((*rows)[1].taken_by.empty());
      BOOST_TEST(s->drop({ids[1], ids[2]}).has_value());
      BOOST_TEST(s->load()->empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(schedules_keep_their_last_fire_when_replaced) {
  for (auto& b : all()) {
    BOOST_TEST_CONTEXT("on " << b.name) {
      const auto at = b.make();
      auto s = opened(schedule_store::open(at));
      BOOST_TEST(s->put("nightly", json{{"name", "nightly"}, {"cron", "0 3 * * *"}}).has_value());
      BOOST_TEST(s->put("hourly", json{{"name", "hourly"}, {"cron", "0 * * * *"}}).has_value());
      BOOST_TEST(s->fired("nightly", 1764730800000, "run-1").has_value());
      BOOST_TEST(s->put("nightly", json{{"name", "nightly"}, {"cron", "30 3 * * *"}}).has_value());
      auto rows = opened(schedule_store::open(at))->load();
      BOOST_TEST_REQUIRE(rows.has_value());
      BOOST_TEST_REQUIRE(rows->size() == 2u);
      BOOST_TEST((*rows)[0].definition["name"] == "hourly");  // by name
      BOOST_TEST((*rows)[0].last_fire == 0);
      BOOST_TEST((*rows)[1].definition["cron"] == "30 3 * * *");
      BOOST_TEST((*rows)[1].last_fire == 1764730800000);
      BOOST_TEST((*rows)[1].last_run_id == "run-1");
      BOOST_TEST(s->remove("hourly").has_value());
      BOOST_TEST(s->load()->size() == 1u);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_chain_round_trips_through_the_run_store) {
  for (auto& b : all()) {
    BOOST_TEST_CONTEXT("on " << b.name) {
      const auto at = b.make();
      auto store = opened(run_store::open(at));
      value_forms forms(64 * 1024);
      std::uint64_t seq = 0;
      auto events_of = [&](const std::vector<run_record>& records) {
        std::vector<event> out;
        for (const auto& r : records)
          out.push_back(event{++seq, "ep-test", 1000, event_kind::after_run, std::make_shared<const run_record>(r), "node-test"});
        return out;
      };
      auto shared_in = share(json{{"text", "a value every step reads, stored once"}});
      auto big = share(json(std::string(100 * 1024, 'b')));  // past the budget: a blob
      run_record root;
      root.id = "run-1";
      root.chain_id = "run-1";
      root.operation = "run";
      root.status = run_status::running;
      root.created = 1000;
      root.input = shared_in;
      run_record every = test::record_with_every_member();  // a step with every member set
      every.id = "run-2";
      every.chain_id = "run-1";
      every.owner_run_id = "run-1";
      every.parent_run_id = "run-1";
      every.input = shared_in;
      every.output = big;
      run_record last = every;
      last.id = "run-3";
      last.err.reset();
      last.status = run_status::completed;
      last.output = share(json{{"done", true}});
      chain_submission submitted{"run-1", share(json{{"operation", "run"}, {"children", json::array()}}), nullptr,
                                 "order-42", 1000};
      auto w = store->write(events_of({root, every, last}), {submitted}, &forms);
      BOOST_TEST_REQUIRE(w.has_value(), (w ? "" : w.error().message));
      BOOST_TEST(store->unfinished_chains().size() == 1u);
      BOOST_TEST(store->unfinished_keys().size() == 1u);
      root.status = run_status::completed;
      root.output = last.output;
      w = store->write(events_of({root}));
      BOOST_TEST_REQUIRE(w.has_value(), (w ? "" : w.error().message));

      BOOST_TEST(store->last_seq() == 4u);
      BOOST_TEST(store->unfinished_chains().empty());
      BOOST_TEST(store->unfinished_keys().empty());
      auto kept = store->chain("run-1");  // kept after its end, for a redrive
      BOOST_TEST_REQUIRE(kept.has_value());
      BOOST_TEST(kept->key == "order-42");
      BOOST_TEST(kept->document["operation"] == "run");
      BOOST_TEST(!kept->has_input);
      BOOST_TEST(store->find_key("order-42").value_or("") == "run-1");
      BOOST_TEST(store->keys().size() == 1u);

      auto two = store->record("run-2");
      BOOST_TEST_REQUIRE(two.has_value());
      BOOST_TEST(blob::is_ref(*two->output));  // the big output is a reference to its blob
      BOOST_TEST(store->blob((*two->output)["$blob"].get<std::string>()).value_or("") == dump(*big));
      auto want = to_json(every);
      want["output"] = *two->output;
      BOOST_TEST(to_json(*two) == want);
      auto records = store->chain_records("run-1");
      BOOST_TEST_REQUIRE(records.size() == 3u);
      for (const auto& r : records)
        if (r.id != "run-1") BOOST_TEST(r.input.get() == records.front().input.get());  // one value in memory too
      BOOST_TEST(to_json(*store->record("run-1")) == to_json(root));

      list_filter f;
      f.roots_only = true;
      BOOST_TEST(store->list(f).size() == 1u);
      f = {};
      f.status = run_status::failed;
      auto failed = store->list(f);
      BOOST_TEST_REQUIRE(failed.size() == 1u);
      BOOST_TEST(failed[0].id == "run-2");
      f = {};
      f.chain_id = "run-1";
      f.limit = 2;
      auto newest = store->list(f);
      BOOST_TEST_REQUIRE(newest.size() == 2u);
      BOOST_TEST(newest[0].id == "run-3");  // newest first
      BOOST_TEST(store->recent_chain_records(10).size() == 3u);

      // The view gives what a user reads with sqlite3 or psql: whole records.
      auto reader = store::sql::open(at, "the test");
      BOOST_TEST_REQUIRE(reader.has_value());
      auto viewed = (*reader)->prepare("SELECT id, record FROM run_records WHERE chain_id = ?1 ORDER BY id");
      BOOST_TEST_REQUIRE(static_cast<bool>(viewed));
      viewed->bind_text(1, "run-1");
      int rows = 0;
      while (viewed->next() == store::sql::step::row) {
        ++rows;
        BOOST_TEST(json::parse(viewed->text(1)) == to_json(*store->record(viewed->text(0))), viewed->text(0));
      }
      BOOST_TEST(rows == 3);
      reader->reset();

      BOOST_TEST(store->trim_events(1).has_value());
      BOOST_TEST(store->last_seq() == 4u);  // the newest stay: seq goes on
      BOOST_TEST(*store->prune(retention_policy{0, 0, 100}, 2000) == 1u);
      BOOST_TEST(!store->record("run-2").has_value());
      BOOST_TEST(!store->blob((*two->output)["$blob"].get<std::string>()).has_value());
      BOOST_TEST(!store->chain("run-1").has_value());
      BOOST_TEST(!store->find_key("order-42").has_value());
    }
  }
}

// A chain resumed after a restart writes runs whose rows an earlier engine wrote: they are updated in
// place (the same row, so its steps still belong to it), on SQLite without `RETURNING`.
BOOST_AUTO_TEST_CASE(runs_written_before_a_reopen_are_updated_in_place) {
  for (auto& b : all()) {
    BOOST_TEST_CONTEXT("on " << b.name) {
      const auto at = b.make();
      auto record = [](const char* id, const char* owner, run_status status, json output) {
        run_record r;
        r.id = id;
        r.chain_id = "run-1";
        r.owner_run_id = owner;
        r.parent_run_id = owner;
        r.operation = *owner ? "noop" : "run";
        r.status = status;
        r.input = share(json{{"n", 1}});
        if (!output.is_null()) r.output = share(std::move(output));
        return std::make_shared<const run_record>(r);
      };
      {
        auto store = opened(run_store::open(at));
        BOOST_TEST_REQUIRE(store->write(std::vector<event>{
            event{1, "ep", 1, event_kind::before_run, record("run-1", "", run_status::running, nullptr), "n"},
            event{2, "ep", 1, event_kind::before_run, record("run-2", "run-1", run_status::running, nullptr), "n"}}).has_value());
      }
      auto store = opened(run_store::open(at));
      BOOST_TEST_REQUIRE(store->write(std::vector<event>{
          event{3, "ep2", 2, event_kind::after_run, record("run-2", "run-1", run_status::completed, json{{"n", 2}}), "n"},
          event{4, "ep2", 2, event_kind::after_run, record("run-1", "", run_status::completed, json{{"n", 2}}), "n"}}).has_value());
      auto two = store->record("run-2");
      BOOST_TEST_REQUIRE(two.has_value());
      BOOST_TEST(to_string(two->status) == "completed");
      BOOST_TEST(two->owner_run_id == "run-1");
      BOOST_TEST(*two->output == (json{{"n", 2}}));
      const auto tree = store->chain_records("run-1");
      BOOST_TEST(tree.size() == 2u);
      BOOST_TEST(to_string(store->record("run-1")->status) == "completed");
      // and a later write of the same store updates the rows it now knows
      BOOST_TEST_REQUIRE(store->write(std::vector<event>{
          event{5, "ep2", 3, event_kind::after_run, record("run-2", "run-1", run_status::failed, json{{"n", 3}}), "n"}}).has_value());
      BOOST_TEST(to_string(store->record("run-2")->status) == "failed");
      BOOST_TEST(*store->record("run-2")->output == (json{{"n", 3}}));
      BOOST_TEST(store->chain_records("run-1").size() == 2u);
      BOOST_TEST(store->last_seq() == 5u);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_failed_write_changes_nothing) {
  for (auto& b : all()) {
    BOOST_TEST_CONTEXT("on " << b.name) {
      auto store = opened(run_store::open(b.make()));
      run_record r;
      r.id = "run-1";
      r.chain_id = "run-1";
      r.operation = "run";
      r.status = run_status::running;
      auto rec = std::make_shared<const run_record>(r);
      BOOST_TEST_REQUIRE(store->write(std::vector<event>{event{1, "ep", 1, event_kind::before_run, rec, "node-test"}}).has_value());
      // seq 1 again: the event's key is taken, the whole batch (the record's new state too) rolls back
      r.status = run_status::completed;
      auto done = std::make_shared<const run_record>(r);
      auto again = store->write(std::vector<event>{event{2, "ep", 2, event_kind::after_run, done, "node-test"},
                                                   event{1, "ep", 2, event_kind::after_run, done, "node-test"}});
      BOOST_TEST_REQUIRE(!again.has_value());
      BOOST_TEST(again.error().code == codes::store_error);
      BOOST_TEST(again.error().message.find("cannot write the events of seq 2 to 1") != std::string::npos,
                 again.error().message);
      BOOST_TEST(store->last_seq() == 1u);
      BOOST_TEST(to_string(store->record("run-1")->status) == "running");
      // and the store goes on
      BOOST_TEST(store->write(std::vector<event>{event{2, "ep", 2, event_kind::after_run, done, "node-test"}}).has_value());
      BOOST_TEST(to_string(store->record("run-1")->status) == "completed");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(postgresql_store)

BOOST_AUTO_TEST_CASE(markers_become_dollar_markers_outside_quotes) {
  using store::sql::postgresql_markers;
  BOOST_TEST(postgresql_markers("UPDATE t SET a = ?2 WHERE b = ?1 AND c = ?12") ==
             "UPDATE t SET a = $2 WHERE b = $1 AND c = $12");
  BOOST_TEST(postgresql_markers("SELECT '?1', \"x?2\" FROM t WHERE a = ?1") == "SELECT '?1', \"x?2\" FROM t WHERE a = $1");
  BOOST_TEST(postgresql_markers("SELECT '?' FROM t WHERE a = ? AND b = ?::jsonb") ==
             "SELECT '?' FROM t WHERE a = $1 AND b = $2::jsonb");
  BOOST_TEST(postgresql_markers("SELECT 'it''s ?1' WHERE a = ?3") == "SELECT 'it''s ?1' WHERE a = $3");
}

BOOST_AUTO_TEST_CASE(an_unreachable_server_is_a_store_error_without_the_password) {
  // A port nobody listens on: the kernel's pick for a socket bound and closed.
  auto r = definition_store::open("postgresql://coworker:s3cret@127.0.0.1:1/postgres?connect_timeout=5");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code == codes::store_error);
  BOOST_TEST(r.error().message.find("postgresql://coworker@127.0.0.1:1/postgres") != std::string::npos,
             r.error().message);
  BOOST_TEST(r.error().message.find("s3cret") == std::string::npos);
  BOOST_TEST(r.error().message.find("cannot connect for definitions") != std::string::npos);
  BOOST_TEST(store::sql::url_without_password("postgres://u:p@h/db?sslmode=disable&password=x&a=b") ==
             "postgres://u@h/db?sslmode=disable&password=***&a=b");
}

BOOST_AUTO_TEST_CASE(several_engines_write_one_postgresql_store_each_numbering_its_own_events) {
  // A cluster's nodes (docs/cluster.md): each engine numbers its events within its epoch.
  test::postgres_database db;
  auto first = opened(run_store::open(db.url()));
  auto second = opened(run_store::open(db.url()));
  auto record = [](const char* id) {
    run_record r;
    r.id = r.chain_id = id;
    r.operation = "run";
    r.status = run_status::running;
    return std::make_shared<const run_record>(r);
  };
  BOOST_TEST(first->write(std::vector<event>{event{1, "ep-a", 1, event_kind::before_run, record("run-a"), "node-test"}}).has_value());
  BOOST_TEST(second->write(std::vector<event>{event{1, "ep-b", 1, event_kind::before_run, record("run-b"), "node-test"}}).has_value());
  BOOST_TEST(first->last_seq() == 1u);
  BOOST_TEST(second->record("run-a").has_value());
  BOOST_TEST(first->record("run-b").has_value());
}

BOOST_AUTO_TEST_CASE(nodes_starting_together_make_the_tables_once) {
  test::postgres_database db;
  std::vector<std::thread> nodes;
  std::vector<std::string> failures(4);
  for (std::size_t i = 0; i < failures.size(); ++i)
    nodes.emplace_back([&, i] {
      auto opened = store::sql::open(db.url(), "the schema");
      if (!opened) {
        failures[i] = opened.error().message;
        return;
      }
      if (auto r = runs::prepare_postgresql_tables(**opened); !r) failures[i] = r.error().message;
    });
  for (auto& t : nodes) t.join();
  for (auto& f : failures) BOOST_TEST(f.empty(), f);
  auto check = store::sql::open(db.url(), "the check");
  BOOST_TEST_REQUIRE(check.has_value());
  auto q = (*check)->prepare("SELECT count(*), max(version) FROM coworker_schema");
  BOOST_TEST_REQUIRE((q && q->next() == store::sql::step::row));
  BOOST_TEST(q->integer(0) == 1);
  BOOST_TEST(q->integer(1) == runs::postgresql_schema_version);
}

BOOST_AUTO_TEST_CASE(a_store_of_a_newer_schema_is_refused) {
  test::postgres_database db;
  {
    auto s = opened(schedule_store::open(db.url()));
  }
  auto admin = store::sql::open(db.url(), "the test");
  BOOST_TEST_REQUIRE(admin.has_value());
  BOOST_TEST_REQUIRE((*admin)->exec("UPDATE coworker_schema SET version = 99").has_value());
  auto r = schedule_store::open(db.url());
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message.find("written by a newer coworker (schema 99") != std::string::npos, r.error().message);
}

BOOST_AUTO_TEST_SUITE_END()

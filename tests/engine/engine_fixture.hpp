// An engine with a few test operations, and helpers to look at run trees and events.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "../waits.hpp"
#include "coworker/coworker.hpp"

namespace coworker::test {

/// A durable engine on the SQLite file `db`, quiet, resuming only when a test calls resume().
inline engine_config durable_config(const std::string& db) {
  engine_config c;
  c.db_path = db;
  c.auto_resume = false;
  c.log_sink = [](std::string_view, std::string_view) {};
  return c;
}

/// Waits for the submitted chain to end (the test fails past safety_timeout) and returns its tree.
inline json ended(engine& eng, const expected<std::string>& id) {
  BOOST_REQUIRE_MESSAGE(id.has_value(), error_text(id));
  auto done = eng.wait(*id, safety_timeout);
  BOOST_REQUIRE_MESSAGE(done.has_value(), "the chain did not end: " << error_text(done));
  auto t = eng.tree(*id);
  BOOST_REQUIRE(t.has_value());
  return *t;
}

struct engine_fixture {
  /// Where `meet` calls wait for each other, and how many were inside `meet` at once.
  struct meeting_point {
    arrivals arrived;
    std::atomic<int> in_flight{0};
    std::atomic<int> max_in_flight{0};
  };

  engine eng;
  std::atomic<int> calls{0};
  // Shared with the handlers, which keep them alive: a handler still blocked when a failed test
  // ends may outlive the fixture.
  std::shared_ptr<gate> release = std::make_shared<gate>();  ///< `hold` returns once it opens
  std::shared_ptr<meeting_point> meeting = std::make_shared<meeting_point>();

  static engine_config make_config() {
    engine_config c;
    c.threads = 2;
    c.cancel_grace = std::chrono::milliseconds(500);
    c.log_sink = [](std::string_view, std::string_view) {};
    return c;
  }

  engine_fixture() : eng(make_config()) {
    // echo: its input. add: {n} → {n: n+1}. fail: fails with input.code (default "boom").
    BOOST_REQUIRE(eng.register_operation("echo", [](const op_request& r) -> expected<json> { return r.in(); }));
    BOOST_REQUIRE(eng.register_operation("add", [](const op_request& r) -> expected<json> {
      const auto& in = r.in();
      long n = in.is_object() && in.contains("n") ? in["n"].get<long>() : 0;
      return json{{"n", n + 1}};
    }));
    BOOST_REQUIRE(eng.register_operation("fail", [this](const op_request& r) -> expected<json> {
      ++calls;
      const auto& in = r.in();
      std::string code = in.is_object() && in.contains("code") ? in["code"].get<std::string>() : "boom";
      return make_error(code, "failed on purpose");
    }));
    BOOST_REQUIRE(eng.register_operation("throw", [](const op_request&) -> expected<json> {
      throw std::runtime_error("handler exploded");
    }));
    // flaky: fails until attempt >= input.okAt.
    BOOST_REQUIRE(eng.register_operation("flaky", [](const op_request& r) -> expected<json> {
      int ok_at = r.in().value("okAt", 3);
      if (r.attempt < ok_at) return make_error("flaky", "attempt " + std::to_string(r.attempt) + " failed");
      return json{{"attempt", r.attempt}};
    }));
    // never: an asynchronous handler that never answers.
    operation never;
    never.name = "never";
    never.mode = handler_mode::async;
    never.async = [](const op_request&, responder) {};
    BOOST_REQUIRE(eng.register_operation(std::move(never)));
    // hold: blocks its pool thread until the test opens `release` (a handler slower than anything
    // the engine may wait for); answers its input then.
    operation hold;
    hold.name = "hold";
    hold.mode = handler_mode::blocking_sync;
    hold.sync = [g = release](const op_request& r) -> expected<json> {  // a copy: it may outlive the test
      if (!g->wait()) return make_error("hold_timeout", "the test never released `hold`");
      return r.in();
    };
    BOOST_REQUIRE(eng.register_operation(std::move(hold)));
    // meet: a meeting point for input.group calls at once. Calls arrive in groups of `group` (the
    // k-th call belongs to group ceil(k / group)); each blocks its pool thread until its whole group
    // has arrived, so a group completes only if its calls run at the same time. Counts concurrent
    // calls in meeting->in_flight/max_in_flight.
    operation meet;
    meet.name = "meet";
    meet.mode = handler_mode::blocking_sync;
    meet.sync = [m = meeting](const op_request& r) -> expected<json> {
      const int group = r.in().value("group", 1);
      int now = ++m->in_flight;
      int seen = m->max_in_flight.load();
      while (now > seen && !m->max_in_flight.compare_exchange_weak(seen, now)) {}
      const int k = m->arrived.arrive();
      const int whole = (k + group - 1) / group * group;
      const bool together = m->arrived.wait_for(whole, safety_timeout / 2);  // fails the step before run() gives up
      --m->in_flight;
      if (!together)
        return make_error("meet_timeout", "call " + std::to_string(k) + " waited in vain for call " + std::to_string(whole) +
                                              ": only " + std::to_string(m->arrived.count()) + " arrived");
      return r.in();
    };
    BOOST_REQUIRE(eng.register_operation(std::move(meet)));
  }

  ~engine_fixture() { release->open(); }  // no `hold` outlives its test

  /// Submits and waits for the chain to end (failing the test at the safety timeout); its tree.
  json run(const json& chain, submit_options opts = {}) { return ended(eng, eng.submit(chain, opts)); }
};

/// The first run in `tree` (depth first) whose stepId is `id`.
inline const json* find_step(const json& tree, const std::string& id) {
  if (tree.value("stepId", json()) == json(id)) return &tree;
  for (const auto& c : tree["children"])
    if (auto* f = find_step(c, id)) return f;
  return nullptr;
}

inline const json& step(const json& tree, const std::string& id) {
  auto* f = find_step(tree, id);
  BOOST_REQUIRE_MESSAGE(f != nullptr, "no run of step '" + id + "' in the tree");
  return *f;
}

/// Every record in the tree, depth first.
inline void each_run(const json& tree, const std::function<void(const json&)>& fn) {
  fn(tree);
  for (const auto& c : tree["children"]) each_run(c, fn);
}

/// Collects events in order.
struct event_log {
  std::mutex mu;
  std::vector<event> events;
  void add(const event& e) {
    std::lock_guard lock(mu);
    events.push_back(e);
  }
  std::vector<event> copy() {
    std::lock_guard lock(mu);
    return events;
  }
};

}  // namespace coworker::test

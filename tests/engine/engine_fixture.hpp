// An engine with a few test operations, and helpers to look at run trees and events.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "coworker/coworker.hpp"

namespace coworker::test {

struct engine_fixture {
  engine eng;
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  std::atomic<int> calls{0};

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
    // busy: blocks its pool thread for input.ms while counting concurrent calls.
    operation busy;
    busy.name = "busy";
    busy.mode = handler_mode::blocking_sync;
    busy.sync = [this](const op_request& r) -> expected<json> {
      int now = ++in_flight;
      int seen = max_in_flight.load();
      while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {}
      std::this_thread::sleep_for(std::chrono::milliseconds(r.in().value("ms", 20)));
      --in_flight;
      return r.in();
    };
    BOOST_REQUIRE(eng.register_operation(std::move(busy)));
  }

  json run(const json& chain, submit_options opts = {}) {
    auto t = eng.run(chain, opts);
    BOOST_REQUIRE_MESSAGE(t.has_value(), (t ? "" : t.error().code + ": " + t.error().message));
    return *t;
  }
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

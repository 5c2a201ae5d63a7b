// Misbehaving handlers are contained to their own run: one that blocks forever, one that throws
// anything, one that returns an enormous output, one that never answers without any timeoutMs. The
// engine keeps serving other runs meanwhile, and shuts down in bounded time.
#include <condition_variable>
#include <future>
#include <new>

#include "engine_fixture.hpp"

using namespace coworker;
using namespace coworker::test;

namespace {

/// Holds blocked handlers until released (after the engine is gone, to show it did not wait).
struct stuck_handlers {
  arrivals blocked;  ///< handlers that entered `stuck`
  gate released;
  void block() {
    blocked.arrive();
    released.wait(std::chrono::hours(24));  // for good, as far as the test is concerned
  }
  void release() { released.open(); }
};

engine_config small_config() {
  auto c = engine_fixture::make_config();
  c.blocking_threads = 2;
  return c;
}

void add_ops(engine& eng, const std::shared_ptr<stuck_handlers>& g) {
  operation stuck;
  stuck.name = "stuck";
  stuck.mode = handler_mode::blocking_sync;
  stuck.sync = [g](const op_request&) -> expected<json> {  // the blocked thread keeps the gate alive
    g->block();
    return json("released");
  };
  BOOST_REQUIRE(eng.register_operation(std::move(stuck)));
  operation io;  // a well-behaved blocking handler
  io.name = "io";
  io.mode = handler_mode::blocking_sync;
  io.sync = [](const op_request& r) -> expected<json> {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a short blocking call; no test depends on its length
    return r.in();
  };
  BOOST_REQUIRE(eng.register_operation(std::move(io)));
  BOOST_REQUIRE(eng.register_operation("echo", [](const op_request& r) -> expected<json> { return r.in(); }));
  BOOST_REQUIRE(eng.register_operation("throw_int", [](const op_request&) -> expected<json> { throw 42; }));
  BOOST_REQUIRE(eng.register_operation("throw_bad_alloc", [](const op_request&) -> expected<json> {
    throw std::bad_alloc();
  }));
  BOOST_REQUIRE(eng.register_operation("huge", [](const op_request&) -> expected<json> {
    json out = json::array();
    for (int i = 0; i < 200000; ++i) out.push_back(std::string(100, 'x'));  // ~20 MB
    return out;
  }));
  operation silent;  // asynchronous, never answers
  silent.name = "silent";
  silent.mode = handler_mode::async;
  silent.async = [](const op_request&, responder) {};
  BOOST_REQUIRE(eng.register_operation(std::move(silent)));
}

/// An engine with a small blocking pool and the misbehaving operations above.
struct contained {
  std::shared_ptr<stuck_handlers> g = std::make_shared<stuck_handlers>();
  engine eng;
  explicit contained(engine_config cfg = small_config()) : eng(std::move(cfg)) { add_ops(eng, g); }
};

json run_chain(engine& eng, const char* text) {
  auto t = eng.run(json::parse(text));
  BOOST_REQUIRE_MESSAGE(t.has_value(), (t ? "" : t.error().code + ": " + t.error().message));
  return *t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(handlers_that_block_forever_cost_a_thread_not_the_engine) {
  auto g = std::make_shared<stuck_handlers>();
  at_scope_exit release_them([&] { g->release(); });  // however the test ends
  auto eng = std::make_unique<engine>(small_config());
  add_ops(*eng, g);
  // Four handlers stuck for good: twice the blocking pool. They stay blocked until the test ends,
  // after the engine is gone.
  std::vector<std::string> stuck_runs;
  for (int i = 0; i < 4; ++i) {
    auto id = eng->submit(json::parse(R"({"operation":"run","children":[{"id":"s","operation":"stuck"}]})"));
    BOOST_REQUIRE(id);
    stuck_runs.push_back(*id);
  }
  // The pool adds a thread for each stuck one: all four get into their handler.
  BOOST_REQUIRE_MESSAGE(g->blocked.wait_for(4), "only " << g->blocked.count() << " of 4 stuck handlers started");
  // Meanwhile well-behaved blocking handlers still run.
  auto ok = run_chain(*eng, R"({"operation":"run","children":[
      {"id":"a","operation":"io","input":1},{"id":"b","operation":"io","input":2},
      {"id":"c","operation":"echo","input":3}]})");
  BOOST_TEST(ok["status"] == "completed");
  BOOST_TEST(step(ok, "b")["output"] == 2);
  for (const auto& id : stuck_runs) BOOST_TEST(to_string(eng->get(id)->status) == "running");
  // A run whose handler never returns still ends: cancelled, while its handler stays blocked.
  for (const auto& id : stuck_runs) {
    BOOST_REQUIRE(eng->cancel(id));
    auto rec = eng->wait(id, safety_timeout);
    BOOST_REQUIRE_MESSAGE(rec, "a run of a stuck handler did not end when cancelled: " << error_text(rec));
    BOOST_TEST(to_string(rec->status) == "cancelled");
    auto tree = eng->tree(id);
    BOOST_REQUIRE(tree);
    BOOST_TEST(step(*tree, "s")["status"] == "cancelled");
  }
  BOOST_TEST(g->blocked.count() == 4);  // no handler was called again
  // The engine shuts down although four handlers are still blocked. They are released after the
  // shutdown returned, or by a watchdog at the safety timeout: a shutdown that waited for them
  // returns only then, and the test fails. (The engine is destroyed here, on the thread that used
  // it: CAF's actor system, destroyed on another thread, waits for this one.)
  gate shut_down;
  std::atomic<bool> rescued{false};
  std::thread watchdog([&] {
    if (shut_down.wait()) return;
    rescued = true;
    g->release();
  });
  eng.reset();
  shut_down.open();
  watchdog.join();
  BOOST_TEST(!rescued.load(), "the engine's shutdown waited for handlers that never return");
  g->release();
}

BOOST_AUTO_TEST_CASE(handlers_that_throw_anything_fail_their_step_only) {
  contained c;
  auto& eng = c.eng;
  auto tree = run_chain(eng, R"({"operation":"run","children":[
      {"id":"p","parallel":["i","m","e"],"options":{"failFast":false},"operations":[
          {"id":"i","operation":"throw_int"},
          {"id":"m","operation":"throw_bad_alloc"},
          {"id":"e","operation":"echo","input":"fine"}]}]})");
  BOOST_TEST(tree["status"] == "failed");
  BOOST_TEST(step(tree, "i")["error"]["code"] == "handler_error");
  BOOST_TEST(step(tree, "m")["error"]["code"] == "handler_error");
  BOOST_TEST(step(tree, "m")["error"]["message"].get<std::string>().find("bad_alloc") != std::string::npos);
  BOOST_TEST(step(tree, "e")["status"] == "completed");
  BOOST_TEST(run_chain(eng, R"({"operation":"run","children":[{"operation":"echo","input":1}]})")["status"] ==
             "completed");
}

BOOST_AUTO_TEST_CASE(an_enormous_output_fails_too_large_and_is_not_kept) {
  auto cfg = small_config();
  cfg.lim.max_value_bytes = 16 << 20;  // "huge" makes ~20 MB
  contained c(cfg);
  auto& eng = c.eng;
  auto tree = run_chain(eng, R"({"operation":"run","children":[
      {"id":"h","operation":"huge"},{"id":"after","operation":"echo","input":1}]})");
  BOOST_TEST(tree["status"] == "failed");
  BOOST_TEST(step(tree, "h")["error"]["code"] == "too_large");
  BOOST_TEST(step(tree, "h")["output"].is_null());
  BOOST_TEST(find_step(tree, "after") == nullptr);  // the chain stopped there
}

BOOST_AUTO_TEST_CASE(without_timeout_ms_the_default_step_timeout_ends_a_silent_handler) {
  auto cfg = small_config();
  cfg.lim.step_timeout_ms = 200;
  contained c(cfg);
  auto& eng = c.eng;
  auto tree = run_chain(eng, R"({"operation":"run","children":[
      {"id":"q","operation":"silent"}]})");
  BOOST_TEST(tree["status"] == "failed");
  BOOST_TEST(step(tree, "q")["error"]["code"] == "timeout");
  BOOST_TEST(step(tree, "q")["error"]["message"].get<std::string>().find("200 ms") != std::string::npos);
  // A nested chain has no default timeout of its own; its operation step times out and onError
  // recovers it.
  auto nested = run_chain(eng, R"({"operation":"run","children":[
      {"id":"inner","operation":"run","children":[
          {"id":"s","operation":"stuck","onError":{"operation":"echo","input":"{{error.code}}"}}]}]})");
  BOOST_TEST(nested["status"] == "completed");
  BOOST_TEST(step(nested, "s")["recovered"] == true);
  BOOST_TEST(step(nested, "s")["output"] == "timeout");
  c.g->release();
}

BOOST_AUTO_TEST_CASE(nested_for_each_cannot_explode_one_chain) {
  auto cfg = small_config();
  cfg.lim.max_chain_elements = 1000;
  contained c(cfg);
  auto& eng = c.eng;
  // 100 × 100 elements would be 10,000 runs at once: the chain fails, clearly, and ends.
  json items = json::array();
  for (int i = 0; i < 100; ++i) items.push_back(i);
  json boom{{"operation", "run"},
            {"children", json::array({json{{"id", "outer"}, {"forEach", items}, {"as", "x"},
                                           {"do", json{{"id", "inner"}, {"forEach", items}, {"as", "y"},
                                                       {"do", json{{"operation", "echo"}, {"input", "{{y}}"}}}}}}})}};
  auto t = eng.run(boom);
  BOOST_REQUIRE(t);
  BOOST_TEST((*t)["status"] == "failed");
  bool named = false;
  each_run(*t, [&](const json& r) {
    BOOST_TEST(r["status"] != "running");
    if (r.contains("error") && r["error"].is_object() && r["error"]["code"] == "too_large" &&
        r["error"]["message"].get<std::string>().find("limits.chainElements") != std::string::npos)
      named = true;
  });
  BOOST_TEST(named);
  // Within the budget (5 outer + 5 × 100 inner in flight), and after elements ended and gave their
  // places back, forEach runs as before.
  json seq{{"operation", "run"},
           {"children", json::array({json{{"id", "a"}, {"forEach", items}, {"as", "x"}, {"do", json{{"operation", "echo"}}}},
                                     json{{"id", "b"}, {"forEach", items}, {"as", "x"}, {"options", {{"concurrency", 5}}},
                                          {"do", json{{"id", "c"}, {"forEach", items}, {"as", "y"}, {"do", json{{"operation", "echo"}}}}}}})}};
  auto ok = eng.run(seq);
  BOOST_REQUIRE_MESSAGE(ok, (ok ? "" : ok.error().code + ": " + ok.error().message + " at " + ok.error().path));
  BOOST_TEST((*ok)["status"] == "completed");
  BOOST_TEST(step(*ok, "b")["output"].size() == 100u);
}

BOOST_AUTO_TEST_CASE(a_forEach_past_chainElements_fails_before_any_element_runs_every_time) {
  auto cfg = small_config();
  cfg.lim.max_chain_elements = 1000;
  contained c(cfg);
  auto chain_of = [](int n, json options) {
    json items = json::array();
    for (int i = 0; i < n; ++i) items.push_back(i);
    json each{{"id", "each"}, {"forEach", items}, {"as", "x"}, {"do", json{{"operation", "echo"}, {"input", "{{x}}"}}}};
    if (!options.is_null()) each["options"] = options;
    return json{{"operation", "run"}, {"children", json::array({each})}};
  };
  for (int round = 0; round < 3; ++round) {  // the same answer whatever the timing
    auto t = c.eng.run(chain_of(1001, nullptr));
    BOOST_REQUIRE(t);
    BOOST_TEST((*t)["status"] == "failed");
    const auto& each = step(*t, "each");
    BOOST_TEST(each["error"]["code"] == "too_large");
    BOOST_TEST(each["error"]["path"] == "/children/0/forEach");
    BOOST_TEST(each["children"].size() == 0u, "elements ran before the limit was decided");
  }
  auto at_limit = c.eng.run(chain_of(1000, nullptr));
  BOOST_REQUIRE(at_limit);
  BOOST_TEST((*at_limit)["status"] == "completed");
  // Past the limit with a concurrency inside it: every element runs, a few at a time.
  auto bounded = c.eng.run(chain_of(3000, json{{"concurrency", 100}}));
  BOOST_REQUIRE(bounded);
  BOOST_TEST((*bounded)["status"] == "completed");
  BOOST_TEST(step(*bounded, "each")["output"].size() == 3000u);
}

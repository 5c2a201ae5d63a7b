// The JSON API over real HTTP on loopback: submit, get with tree, list by status, cancel, located
// errors, the page itself, and the token.
#include <boost/test/unit_test.hpp>

#include "http_fixture.hpp"

using namespace coworker;
using namespace coworker::test;

namespace {

json two_steps() {
  return chain_of({json{{"id", "a"}, {"operation", "log"}},
                   json{{"id", "b"}, {"operation", "message"}, {"input", {{"text", "n={{a.output.n}}"}}}}});
}

json long_wait() { return chain_of({json{{"id", "slow"}, {"operation", "wait"}, {"input", {{"ms", 600000}}}}}); }

/// Posts long_wait() and returns its run id once its step runs (its before:run event): a chain
/// just accepted is pending for a moment.
std::string start_long_wait(http_daemon& d, httplib::Client& c) {
  event_counter slow_started(d.eng, started_step("slow"));
  auto accepted = post(c, "/api/runs", json{{"chain", long_wait()}});
  BOOST_REQUIRE_MESSAGE(accepted.status == 202, accepted.text);
  BOOST_REQUIRE_MESSAGE(slow_started.wait_for(1), "the chain's first step did not start");
  return accepted.body["runId"].get<std::string>();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_api)

BOOST_AUTO_TEST_CASE(submitted_chain_is_listed_and_read_as_tree) {
  http_daemon d;
  auto c = d.client();
  auto accepted = post(c, "/api/runs", json{{"chain", two_steps()}});
  BOOST_TEST(accepted.status == 202);
  BOOST_TEST(accepted.body["ok"] == true);
  auto id = accepted.body["runId"].get<std::string>();
  BOOST_REQUIRE(d.eng.wait(id, safety_timeout));

  auto tree = get(c, "/api/runs/" + id + "?tree=1");
  BOOST_TEST(tree.status == 200);
  BOOST_TEST(tree.body["run"]["status"] == "completed");
  BOOST_REQUIRE(tree.body["run"]["children"].size() == 2);
  BOOST_TEST(tree.body["run"]["children"][1]["output"]["text"] == "n=1");
  auto flat = get(c, "/api/runs/" + id);
  BOOST_TEST(!flat.body["run"].contains("children"));
  BOOST_TEST(flat.body["run"]["childRunIds"].size() == 2);

  auto slow_id = start_long_wait(d, c);
  auto completed = get(c, "/api/runs?status=completed");
  BOOST_REQUIRE(completed.body["runs"].size() == 1);
  BOOST_TEST(completed.body["runs"][0]["id"] == id);
  auto live = get(c, "/api/runs?status=running&limit=10");
  BOOST_REQUIRE(live.body["runs"].size() == 1);
  BOOST_TEST(live.body["runs"][0]["id"] == slow_id);
  BOOST_TEST(get(c, "/api/runs").body["runs"].size() == 2);
  BOOST_TEST(get(c, "/api/runs?status=bogus").status == 400);
  BOOST_TEST(get(c, "/api/runs?limit=x").body["error"]["path"] == "/limit");
}

BOOST_AUTO_TEST_CASE(bare_chain_with_wait_answers_with_its_tree) {
  http_daemon d;
  auto c = d.client();
  auto done = post(c, "/api/runs?wait=1", two_steps());
  BOOST_TEST(done.status == 200);
  BOOST_TEST(done.body["status"] == "completed");
  BOOST_TEST(done.body["tree"]["children"][0]["operation"] == "log");
  // The chain is remembered for re-submitting.
  auto again = get(c, "/api/runs/" + done.body["runId"].get<std::string>() + "/chain");
  BOOST_TEST(again.status == 200);
  BOOST_TEST(again.body["chain"] == two_steps());
  BOOST_TEST(get(c, "/api/runs/run-nope/chain").status == 404);
}

BOOST_AUTO_TEST_CASE(cancel_ends_a_long_wait_as_cancelled) {
  http_daemon d;
  auto c = d.client();
  auto id = start_long_wait(d, c);
  BOOST_TEST(post(c, "/api/runs/" + id + "/redrive", json::object()).status == 409);  // it runs: not_redrivable
  auto r = to_reply(c.Post(("/api/runs/" + id + "/cancel").c_str(), "", "application/json"));
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.body["cancelling"] == true);
  // The wait cannot end on its own while the test runs: only the cancel ends it.
  auto rec = d.eng.wait(id, safety_timeout);
  BOOST_REQUIRE_MESSAGE(rec, "the cancelled chain did not end: " << error_text(rec));
  BOOST_TEST(to_string(rec->status) == std::string("cancelled"));
  auto tree = get(c, "/api/runs/" + id + "?tree=1");
  BOOST_TEST(tree.body["run"]["status"] == "cancelled");
  BOOST_TEST(tree.body["run"]["children"][0]["status"] == "cancelled");
  BOOST_TEST(to_reply(c.Post("/api/runs/run-unknown/cancel", "", "application/json")).status == 404);
  // Cancelled: it can be redriven (docs/chain-language.md, "Redrive"); a dry run changes nothing.
  auto dry = post(c, "/api/runs/" + id + "/redrive", json{{"dryRun", true}});
  BOOST_TEST(dry.status == 200);
  BOOST_TEST(dry.body["wouldRun"].size() == 1u);
  BOOST_TEST(to_string(d.eng.get(id)->status) == "cancelled");
  BOOST_TEST(to_reply(c.Post("/api/runs/run-unknown/redrive", "", "application/json")).status == 404);
  BOOST_TEST(to_reply(c.Get(("/api/runs/" + id + "/redrive").c_str())).status == 405);
  BOOST_TEST(post(c, "/api/runs/" + id + "/redrive", json::array()).status == 400);
}

BOOST_AUTO_TEST_CASE(invalid_chain_error_names_its_place) {
  http_daemon d;
  auto c = d.client();
  auto bad = chain_of({json{{"id", "a"}, {"operation", "log"}, {"input", "{{ghost.output}}"}}});
  auto wrapped = post(c, "/api/runs", json{{"chain", bad}});
  BOOST_TEST(wrapped.status == 400);
  BOOST_TEST(wrapped.body["error"]["code"] == "unknown_reference");
  BOOST_TEST(wrapped.body["error"]["path"] == "/chain/children/0/input");
  auto bare = post(c, "/api/runs", bad);
  BOOST_TEST(bare.body["error"]["path"] == "/children/0/input");

  auto checked = post(c, "/api/validate", bad);
  BOOST_TEST(checked.status == 200);
  BOOST_TEST(checked.body["valid"] == false);
  BOOST_TEST(checked.body["errors"][0]["path"] == "/children/0/input");
  auto syntax = to_reply(c.Post("/api/validate", "{\"operation\": \"run\",\n  \"children\": [}", "application/json"));
  BOOST_TEST(syntax.body["errors"][0]["code"] == "bad_json");
  BOOST_TEST(syntax.body["errors"][0]["message"].get<std::string>().find("line 2") != std::string::npos);
  BOOST_TEST(post(c, "/api/validate", two_steps()).body["valid"] == true);
  auto not_json = to_reply(c.Post("/api/runs", "{nope", "application/json"));
  BOOST_TEST(not_json.status == 400);
  BOOST_TEST(not_json.body["error"]["code"] == "bad_json");
}

BOOST_AUTO_TEST_CASE(unknown_endpoints_and_methods_are_refused) {
  auto cfg = quiet_engine();
  cfg.lim.max_request_bytes = 1 << 20;  // bodies past it, and past 4× it, are refused with 413
  http_daemon d({}, cfg);
  auto c = d.client();
  BOOST_TEST(get(c, "/api/nothing").status == 404);
  BOOST_TEST(get(c, "/api/runs/run-unknown").status == 404);
  BOOST_TEST(get(c, "/api/runs/run-unknown").body["error"]["code"] == "not_found");
  BOOST_TEST(get(c, "/api/validate").status == 405);
  BOOST_TEST(get(c, "/api/ping").body["epoch"] == d.eng.epoch());
  BOOST_TEST(get(c, "/api/operations").body["operations"].size() > 3);
  BOOST_TEST(get(c, "/api/snapshot").body.contains("seq"));
  auto huge = to_reply(c.Post("/api/runs", std::string(5 << 20, ' '), "application/json"));
  BOOST_TEST(huge.status == 413);
  BOOST_TEST(huge.body["error"]["code"] == "too_large");
  auto big = to_reply(c.Post("/api/runs", std::string(2 << 20, ' '), "application/json"));
  BOOST_TEST(big.status == 413);
  BOOST_TEST(big.body["error"]["code"] == "too_large");
}

BOOST_AUTO_TEST_CASE(page_is_served_from_the_binary) {
  http_daemon d;
  auto c = d.client();
  for (const char* path : {"/", "/index.html", "/app.js", "/style.css"}) {
    auto r = c.Get(path);
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 200, path);
    BOOST_TEST(!r->body.empty(), path);
  }
  BOOST_TEST(c.Get("/")->get_header_value("Content-Type").find("text/html") == 0);
  BOOST_TEST(c.Get("/missing.js")->status == 404);
}

BOOST_AUTO_TEST_CASE(token_is_required_for_api_and_metrics) {
  http_daemon d("s3cret");
  auto anonymous = d.client();
  BOOST_TEST(get(anonymous, "/api/runs").status == 401);
  BOOST_TEST(get(anonymous, "/api/runs").body["error"]["code"] == "unauthorized");
  BOOST_TEST(anonymous.Get("/metrics")->status == 401);
  BOOST_TEST(post(anonymous, "/api/runs", two_steps()).status == 401);
  BOOST_TEST(anonymous.Get("/")->status == 200);  // the page loads and asks for the token
  auto wrong = d.client("s3cres");
  BOOST_TEST(get(wrong, "/api/runs").status == 401);
  auto good = d.client("s3cret");
  BOOST_TEST(get(good, "/api/runs").status == 200);
  BOOST_TEST(good.Get("/metrics")->status == 200);
  BOOST_TEST(get(anonymous, "/api/runs?token=s3cret").status == 200);  // as EventSource must
}

BOOST_AUTO_TEST_CASE(without_token_other_sites_are_kept_out) {
  http_daemon d;
  auto c = d.client();
  httplib::Headers rebound{{"Host", "evil.example:8080"}};
  BOOST_TEST(c.Get("/api/runs", rebound)->status == 403);
  BOOST_TEST(to_reply(c.Post("/api/runs", dump(two_steps()), "text/plain")).status == 415);
  httplib::Headers local{{"Host", "localhost:1234"}};
  BOOST_TEST(c.Get("/api/runs", local)->status == 200);
}

BOOST_AUTO_TEST_CASE(non_loopback_without_token_is_refused) {
  engine eng(quiet_engine());
  http_config h;
  h.listen = "0.0.0.0:0";
  http_gateway open(eng, h);
  auto r = open.start();
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().code == "invalid_input");
  h.listen = "127.0.0.1";
  http_gateway no_port(eng, h);
  BOOST_TEST(!no_port.start());
}

BOOST_AUTO_TEST_SUITE_END()

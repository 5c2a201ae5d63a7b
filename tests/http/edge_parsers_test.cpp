// The typed parsers at the edges, without sockets: worker frames (docs/protocol.md, "Workers"),
// request frames ("Requests"), the config file and query-string values. A wrong type anywhere is an
// error with a code and a JSON Pointer, never an exception.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>

#include "protocol/config_file.hpp"
#include "protocol/fields.hpp"
#include "protocol/request.hpp"
#include "protocol/worker_frame.hpp"

using namespace coworker;
using namespace coworker::protocol;

namespace {

error worker_error(const std::string& frame) {
  auto m = parse_worker_frame(frame, limits{});
  BOOST_REQUIRE_MESSAGE(!m, "accepted: " + frame);
  return m.error();
}

error request_error(const std::string& frame) {
  auto r = parse_request(json::parse(frame));
  BOOST_REQUIRE_MESSAGE(!r, "accepted: " + frame);
  return r.error();
}

error config_error(const std::string& text) {
  auto c = parse_config(text);
  BOOST_REQUIRE_MESSAGE(!c, "accepted: " + text);
  return c.error();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(edge_parsers)

BOOST_AUTO_TEST_CASE(a_hello_is_typed) {
  auto m = parse_worker_frame(R"({"type":"hello","capacity":4,"operations":["a",{"name":"b","inputSchema":{"type":"any"}},"a"]})",
                              limits{});
  BOOST_REQUIRE(m);
  const auto& h = std::get<worker_hello>(*m);
  BOOST_TEST(h.capacity == 4);
  BOOST_REQUIRE(h.operations.size() == 2u);  // "a" named twice counts once
  BOOST_TEST(h.operations[1].name == "b");
  BOOST_TEST(h.operations[1].input_schema == json({{"type", "any"}}));
  auto bare = parse_worker_frame(R"({"type":"hello"})", limits{});
  BOOST_REQUIRE(bare);
  BOOST_TEST(std::get<worker_hello>(*bare).capacity == 1);
}

BOOST_AUTO_TEST_CASE(wrong_types_in_worker_frames_name_their_place) {
  struct bad {
    const char* frame;
    const char* code;
    const char* path;
  };
  const bad cases[] = {
      {R"({"type":"hello","capacity":"many","operations":["x"]})", "invalid_input", "/capacity"},
      {R"({"type":"hello","capacity":null,"operations":7})", "invalid_input", "/operations"},
      {R"({"type":"hello","capacity":0})", "invalid_input", "/capacity"},
      {R"({"type":"hello","capacity":1001})", "invalid_input", "/capacity"},
      {R"({"type":"hello","capacity":2.5})", "invalid_input", "/capacity"},
      {R"({"type":"hello","capacity":true})", "invalid_input", "/capacity"},
      {R"({"type":"hello","operations":[7]})", "invalid_input", "/operations/0"},
      {R"({"type":"hello","operations":[{"name":7}]})", "invalid_input", "/operations/0/name"},
      {R"({"type":"hello","operations":[{}]})", "invalid_input", "/operations/0/name"},
      {R"({"type":"hello","operations":[{"name":"x","inputSchema":"any"}]})", "invalid_input", "/operations/0/inputSchema"},
      {R"({"type":"hello","operations":["run"]})", "invalid_input", "/operations/0"},
      {R"({"type":"hello","operations":["no spaces"]})", "invalid_input", "/operations/0"},
      {R"({"type":"hello","operations":[""]})", "invalid_input", "/operations/0"},
      {R"({"type":"result","taskId":7})", "invalid_input", "/taskId"},
      {R"({"type":"result"})", "invalid_input", "/taskId"},
      {R"({"type":"error","taskId":null})", "invalid_input", "/taskId"},
      {R"({"type":"error","taskId":"t","error":"boom"})", "invalid_input", "/error"},
      {R"({"type":"error","taskId":"t","error":{"code":5}})", "invalid_input", "/error/code"},
      {R"({"type":"error","taskId":"t","error":{"message":[]}})", "invalid_input", "/error/message"},
      {R"({"type":7})", "bad_json", "/type"},
      {R"({"type":"dance"})", "unknown_type", "/type"},
      {R"([1,2])", "bad_json", ""},
      {"not json", "bad_json", ""},
  };
  for (const auto& c : cases) {
    auto e = worker_error(c.frame);
    BOOST_TEST(e.code == c.code, c.frame << ": " << e.code);
    BOOST_TEST(e.path == c.path, c.frame << ": " << e.path);
    BOOST_TEST(!e.message.empty());
  }
  BOOST_TEST(worker_error(std::string(protocol::max_worker_frame_bytes(limits{}) + 1, ' ')).code == "too_large");
  BOOST_TEST(worker_error(std::string(200, '[') + std::string(200, ']')).code == "too_deep");
}

BOOST_AUTO_TEST_CASE(answers_are_typed) {
  auto r = parse_worker_frame(R"({"type":"result","taskId":"task-1","output":{"a":1}})", limits{});
  BOOST_REQUIRE(r);
  BOOST_TEST(std::get<worker_result>(*r).output == json({{"a", 1}}));
  auto f = parse_worker_frame(R"({"type":"error","taskId":"task-2"})", limits{});
  BOOST_REQUIRE(f);
  BOOST_TEST(std::get<worker_failure>(*f).code == "handler_error");
  auto g = parse_worker_frame(R"({"type":"error","taskId":"task-2","error":{"code":"mine","message":"m"}})", limits{});
  BOOST_TEST(std::get<worker_failure>(*g).code == "mine");
}

BOOST_AUTO_TEST_CASE(requests_are_typed) {
  auto run = parse_request(json::parse(R"({"type":"run","chain":{"operation":"run"},"wait":true,"key":"k"})"));
  BOOST_REQUIRE(run);
  BOOST_TEST(std::get<run_request>(*run).wait);
  BOOST_TEST(std::get<run_request>(*run).key == "k");
  auto snap = parse_request(json::parse(R"({"type":"snapshot"})"));
  BOOST_TEST(std::get<snapshot_request>(*snap).recent == 100u);
  auto list = parse_request(json::parse(R"({"type":"list","chainId":"run-1"})"));
  BOOST_TEST(!std::get<list_request>(*list).query.roots_only);  // a chain's tree: every run

  BOOST_TEST(request_error(R"({"type":"run","chain":{},"wait":"yes"})").path == "/wait");
  BOOST_TEST(request_error(R"({"type":"run","chain":[]})").code == "invalid_chain");
  BOOST_TEST(request_error(R"({"type":"run","chain":{},"key":1})").path == "/key");
  BOOST_TEST(request_error(R"({"type":"get","runId":1})").path == "/runId");
  BOOST_TEST(request_error(R"({"type":"get","runId":"r","tree":"1"})").path == "/tree");
  BOOST_TEST(request_error(R"({"type":"list","limit":0})").path == "/limit");
  BOOST_TEST(request_error(R"({"type":"list","limit":"5"})").path == "/limit");
  BOOST_TEST(request_error(R"({"type":"list","status":"sleeping"})").path == "/status");
  BOOST_TEST(request_error(R"({"type":"snapshot","recent":"abc"})").path == "/recent");
  BOOST_TEST(request_error(R"({"type":"snapshot","recent":-1})").path == "/recent");
  BOOST_TEST(request_error(R"({"type":"snapshot","recent":10001})").path == "/recent");
  BOOST_TEST(request_error(R"({"type":"cancel"})").path == "/runId");
  BOOST_TEST(request_error(R"({"type":"redrive"})").path == "/runId");
  BOOST_TEST(request_error(R"({"type":"redrive","runId":"r","dryRun":"yes"})").path == "/dryRun");
  BOOST_TEST(request_error(R"({"type":"redrive","runId":"r","wait":1})").path == "/wait");
  BOOST_TEST(request_error(R"({"type":"nope"})").code == "unknown_type");
  BOOST_TEST(request_error(R"({"type":null})").code == "bad_json");
  BOOST_TEST(request_error(R"("ping")").code == "bad_json");
}

BOOST_AUTO_TEST_CASE(query_values_are_exact) {
  BOOST_TEST(*parse_int_text("200", 0, 10000, "recent") == 200);
  BOOST_TEST(!parse_int_text("abc", 0, 10000, "recent").has_value());
  BOOST_TEST(!parse_int_text("-1", 0, 10000, "recent").has_value());
  BOOST_TEST(!parse_int_text("1e3", 0, 10000, "recent").has_value());
  BOOST_TEST(!parse_int_text("", 0, 10000, "recent").has_value());
  BOOST_TEST(!parse_int_text("99999999999999999999999", 0, 10000, "recent").has_value());
  BOOST_TEST(parse_int_text("abc", 0, 10000, "query parameter 'recent'").error().message.find("'recent'") !=
             std::string::npos);
  BOOST_TEST(*parse_bool_text("1", "wait"));
  BOOST_TEST(!*parse_bool_text("false", "wait"));
  BOOST_TEST(!parse_bool_text("abc", "wait").has_value());
  BOOST_TEST(!parse_bool_text("yes", "wait").has_value());
}

BOOST_AUTO_TEST_CASE(the_config_file_is_checked_key_by_key) {
  auto c = parse_config(R"({
    // comments are allowed
    "requests": "tcp://127.0.0.1:6000", "limits": {"chainElements": 500, "stepTimeoutMs": 0},
    "scheduler": {"policy": "stealing", "threads": 2}, "routeToWorkers": ["summarize"], "heartbeatMs": 250})");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->requests == "tcp://127.0.0.1:6000");
  BOOST_TEST(*c->limits.chain_elements == 500);
  BOOST_TEST(*c->limits.step_timeout_ms == 0);
  BOOST_TEST(!c->limits.steps.has_value());
  BOOST_TEST(c->scheduler_policy == "stealing");
  BOOST_TEST(*c->threads == 2);
  BOOST_TEST(c->route_to_workers.size() == 1u);

  auto typo = config_error(R"({"limits": {"chainElement": 5}})");
  BOOST_TEST(typo.code == "unknown_field");
  BOOST_TEST(typo.path == "/limits/chainElement");
  BOOST_TEST(typo.message.find("did you mean 'chainElements'") != std::string::npos);
  BOOST_TEST(config_error(R"({"limits": {"steps": "many"}})").path == "/limits/steps");
  BOOST_TEST(config_error(R"({"limits": {"chainDepth": 1000}})").path == "/limits/chainDepth");
  BOOST_TEST(config_error(R"({"limits": 5})").path == "/limits");
  BOOST_TEST(config_error(R"({"ephemeral": "yes"})").path == "/ephemeral");
  BOOST_TEST(config_error(R"({"heartbeatMs": -1})").path == "/heartbeatMs");
  BOOST_TEST(config_error(R"({"scheduler": {"policy": "fast"}})").path == "/scheduler/policy");
  BOOST_TEST(config_error(R"({"routeToWorkers": [1]})").path == "/routeToWorkers/0");
  BOOST_TEST(config_error(R"({"curve": {"secretKeyFile": 1}})").path == "/curve/secretKeyFile");
  BOOST_TEST(config_error(R"({"http": {"listen": true}})").path == "/http/listen");
  BOOST_TEST(config_error(R"([])").code == "bad_json");
  BOOST_TEST(config_error("{").code == "bad_json");
  // The shipped example is valid.
  std::ifstream in(std::string(COWORKER_SOURCE_DIR) + "/config/coworker.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST(parse_config(text).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

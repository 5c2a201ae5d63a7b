// The HTTP endpoint's plain parts without sockets: listen addresses, loopback and token checks,
// SSE framing, and the addresses a node advertises to its cluster with the origins pages send.
#include <boost/test/unit_test.hpp>

#include "protocol/advertised.hpp"
#include "protocol/event_stream.hpp"
#include "protocol/http_access.hpp"

using namespace coworker;
using namespace coworker::protocol;

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

}  // namespace

BOOST_AUTO_TEST_SUITE(http_parts)

BOOST_AUTO_TEST_CASE(origins_are_what_a_browser_sends) {
  BOOST_TEST(url_origin("http://127.0.0.1:8080") == "http://127.0.0.1:8080");
  BOOST_TEST(url_origin("http://127.0.0.1:8080/") == "http://127.0.0.1:8080");
  BOOST_TEST(url_origin("HTTP://Node-B.example:8080/api/events?since=1") == "http://node-b.example:8080");
  BOOST_TEST(url_origin("http://b.example:80/") == "http://b.example");
  BOOST_TEST(url_origin("https://b.example:443") == "https://b.example");
  BOOST_TEST(url_origin("https://b.example:8443#x") == "https://b.example:8443");
  BOOST_TEST(url_origin("http://[::1]:8080/") == "http://[::1]:8080");
  BOOST_TEST(url_origin("http://[::1]") == "http://[::1]");
  for (const char* bad : {"", "null", "127.0.0.1:8080", "ftp://b.example", "http://", "http://u:p@b.example",
                          "http://b.example:8x/", "http://[]:80"})
    BOOST_TEST(url_origin(bad).empty(), bad);
}

BOOST_AUTO_TEST_CASE(advertised_addresses_name_this_machine_for_a_wildcard) {
  BOOST_TEST(advertised_http_url({"127.0.0.1", 8080}, "box") == "http://127.0.0.1:8080");
  BOOST_TEST(advertised_http_url({"0.0.0.0", 8080}, "box") == "http://box:8080");
  BOOST_TEST(advertised_http_url({"::", 8080}, "box") == "http://box:8080");
  BOOST_TEST(advertised_http_url({"::1", 8080}, "box") == "http://[::1]:8080");
  BOOST_TEST(advertised_endpoint("tcp://127.0.0.1:5570", "box") == "tcp://127.0.0.1:5570");
  BOOST_TEST(advertised_endpoint("tcp://0.0.0.0:5570", "box") == "tcp://box:5570");
  BOOST_TEST(advertised_endpoint("tcp://*:5570", "box") == "tcp://box:5570");
  BOOST_TEST(advertised_endpoint("tcp://[::]:5570", "box") == "tcp://box:5570");
  BOOST_TEST(advertised_endpoint("ipc:///tmp/coworker", "box") == "ipc:///tmp/coworker");
  BOOST_TEST(!host_name().empty());
}

BOOST_AUTO_TEST_CASE(listen_addresses_parse_or_explain) {
  auto a = parse_listen("127.0.0.1:8080");
  BOOST_REQUIRE(a);
  BOOST_TEST(a->host == "127.0.0.1");
  BOOST_TEST(a->port == 8080);
  auto v6 = parse_listen("[::1]:0");
  BOOST_REQUIRE(v6);
  BOOST_TEST(v6->host == "::1");
  BOOST_TEST(parse_listen(":9000")->host == "127.0.0.1");
  for (const char* bad : {"127.0.0.1", "127.0.0.1:x", "127.0.0.1:70000", "::1:80", "[::1]80", "host:-1"})
    BOOST_TEST(!parse_listen(bad), bad);
  BOOST_TEST(parse_listen("nohost").error().code == "invalid_input");
}

BOOST_AUTO_TEST_CASE(loopback_is_recognized_exactly) {
  for (const char* yes : {"127.0.0.1", "127.1.2.3", "localhost", "::1"}) BOOST_TEST(is_loopback_host(yes), yes);
  for (const char* no : {"0.0.0.0", "128.0.0.1", "127.0.0.1.evil.com", "127.0.0.256", "127..0.1", "", "localhost.evil"})
    BOOST_TEST(!is_loopback_host(no), no);
  for (const char* yes : {"127.0.0.1:8080", "localhost", "[::1]:80", "localhost:1"})
    BOOST_TEST(is_loopback_host_header(yes), yes);
  for (const char* no : {"evil.example:8080", "", "[::2]:80", "127.0.0.1.nip.io:80"}) BOOST_TEST(!is_loopback_host_header(no), no);
}

BOOST_AUTO_TEST_CASE(bearer_tokens_compare_exactly) {
  BOOST_TEST(bearer_token("Bearer abc") == "abc");
  BOOST_TEST(bearer_token("bearer  abc ") == "abc");
  BOOST_TEST(bearer_token("Basic abc").empty());
  BOOST_TEST(bearer_token("Bearer ").empty());
  BOOST_TEST(token_matches("abc", "abc"));
  BOOST_TEST(!token_matches("abc", "abd"));
  BOOST_TEST(!token_matches("abc", "ab"));
  BOOST_TEST(!token_matches("abc", "abcd"));
  BOOST_TEST(!token_matches("", ""));
}

BOOST_AUTO_TEST_CASE(sse_messages_are_framed) {
  BOOST_TEST(sse_message("run", "{\"a\":1}", 7) == "id: 7\nevent: run\ndata: {\"a\":1}\n\n");
  BOOST_TEST(sse_message("x", "a\nb") == "event: x\ndata: a\ndata: b\n\n");
  value_text_cache cache;
  value_forms forms(64 * 1024);
  auto text = sse_run_event(ev(3), forms, cache);
  BOOST_TEST(text.rfind("id: 3\nevent: run\ndata: {\"seq\":3,", 0) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

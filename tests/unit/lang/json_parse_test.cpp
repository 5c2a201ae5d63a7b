// parse_json: limits enforced while parsing, syntax and UTF-8 errors, duplicate keys by pointer.
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>

#include "chain/json_parse.hpp"

using namespace coworker;
using coworker::chain::parse_json;

namespace {

limits small(int depth = 64, std::size_t bytes = 1024 * 1024) {
  limits l;
  l.max_json_depth = depth;
  l.max_request_bytes = bytes;
  return l;
}

error parse_error_of(std::string_view text, const limits& l = {}) {
  auto r = parse_json(text, l);
  BOOST_REQUIRE(!r.has_value());
  return r.error();
}

bool all_printable(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f) return false;
  return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(json_parse)

BOOST_AUTO_TEST_CASE(valid_document_parses) {
  auto r = parse_json(R"({"a":[1,2,{"b":"ü €"}],"c":null})", {});
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST((*r)["a"][2]["b"].get<std::string>() == "ü €");
}

BOOST_AUTO_TEST_CASE(text_over_max_request_bytes_is_too_large) {
  std::string text = R"({"k":")" + std::string(100, 'x') + "\"}";
  BOOST_TEST(parse_json(text, small(64, text.size())).has_value());
  auto e = parse_error_of(text, small(64, text.size() - 1));
  BOOST_TEST(e.code == codes::too_large);
  BOOST_TEST(e.path == "");
}

BOOST_AUTO_TEST_CASE(nesting_at_limit_parses_and_over_limit_is_too_deep) {
  auto nested = [](int n) { return std::string(static_cast<std::size_t>(n), '[') + std::string(static_cast<std::size_t>(n), ']'); };
  BOOST_TEST(parse_json(nested(64), {}).has_value());
  auto e = parse_error_of(nested(65));
  BOOST_TEST(e.code == codes::too_deep);
  BOOST_TEST(parse_json(nested(3), small(3)).has_value());
  BOOST_TEST(parse_error_of(nested(4), small(3)).code == codes::too_deep);
}

BOOST_AUTO_TEST_CASE(hundred_thousand_open_brackets_is_too_deep_without_overflow) {
  BOOST_TEST(parse_error_of(std::string(100000, '[')).code == codes::too_deep);
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  BOOST_TEST(parse_error_of(objects).code == codes::too_deep);
  // Even with a huge configured limit the parser itself does not recurse.
  auto e = parse_error_of(std::string(100000, '['), small(1000000, 1 << 30));
  BOOST_TEST(e.code == codes::bad_json);  // unterminated, not a crash
}

BOOST_AUTO_TEST_CASE(too_deep_message_names_where) {
  auto e = parse_error_of(R"({"a":{"b":[[1]]}})", small(3));
  BOOST_TEST(e.code == codes::too_deep);
  BOOST_TEST(e.message.find("/a/b/0") != std::string::npos, e.message);
}

BOOST_AUTO_TEST_CASE(syntax_error_is_bad_json_with_byte_position) {
  auto e = parse_error_of(R"({"a": tru})");
  BOOST_TEST(e.code == codes::bad_json);
  BOOST_TEST(e.message.find("byte ") != std::string::npos, e.message);
  BOOST_TEST(e.message.find("json.exception") == std::string::npos, e.message);
  BOOST_TEST(e.path == "");
}

BOOST_AUTO_TEST_CASE(empty_or_trailing_text_is_bad_json) {
  BOOST_TEST(parse_error_of("").code == codes::bad_json);
  BOOST_TEST(parse_error_of("   ").code == codes::bad_json);
  BOOST_TEST(parse_error_of("{} {}").code == codes::bad_json);
  BOOST_TEST(parse_error_of("[1,]").code == codes::bad_json);
  BOOST_TEST(parse_error_of("{\"a\":1 /* c */}").code == codes::bad_json);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_in_strings_is_bad_json) {
  for (std::string bad : {std::string("[\"\xff\"]"), std::string("[\"\xc0\xaf\"]"), std::string("[\"\xe2\x82\"]"),
                          std::string("[\"\xed\xa0\x80\"]"), std::string("[\"\xf4\x90\x80\x80\"]"),
                          std::string("{\"\xfe\":1}"), std::string("[\"\\ud800\"]"), std::string("[\"\\udc00x\"]")}) {
    auto e = parse_error_of(bad);
    BOOST_TEST(e.code == codes::bad_json);
    BOOST_TEST(all_printable(e.message), e.message);  // raw bytes never leak into messages
  }
}

BOOST_AUTO_TEST_CASE(invalid_bytes_outside_strings_are_bad_json) {
  BOOST_TEST(parse_error_of("[1,\xff]").code == codes::bad_json);
  BOOST_TEST(parse_error_of("\x80").code == codes::bad_json);
}

BOOST_AUTO_TEST_CASE(valid_utf8_and_escapes_parse) {
  auto r = parse_json("[\"\xf0\x9f\x98\x80\", \"\\ud83d\\ude00\", \"\xe2\x82\xac\"]", {});
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST((*r)[0] == (*r)[1]);
}

BOOST_AUTO_TEST_CASE(duplicate_key_reports_its_pointer) {
  auto e = parse_error_of(R"({"a":[{"x":1},{"x":1,"y":2,"x":3}]})");
  BOOST_TEST(e.code == codes::bad_json);
  BOOST_TEST(e.path == "/a/1/x");
  BOOST_TEST(e.message.find("/a/1/x") != std::string::npos, e.message);
}

BOOST_AUTO_TEST_CASE(duplicate_key_at_root_and_after_nested_values) {
  BOOST_TEST(parse_error_of(R"({"operation":"run","operation":"run"})").path == "/operation");
  BOOST_TEST(parse_error_of(R"({"a":{"b":[1,[2],{}]},"c":[[],[]],"a":0})").path == "/a");
  BOOST_TEST(parse_error_of(R"([[1,2],{"k":[3]},{"k":1,"k":2}])").path == "/2/k");
}

BOOST_AUTO_TEST_CASE(duplicate_key_written_with_escapes_is_found_and_escaped) {
  BOOST_TEST(parse_error_of(R"({"a/b":{"~":1,"\u007e":2}})").path == "/a~1b/~0");
  BOOST_TEST(parse_error_of(R"({"ab":1,"a\u0062":2})").path == "/ab");
}

BOOST_AUTO_TEST_CASE(same_key_in_different_objects_is_fine) {
  BOOST_TEST(parse_json(R"({"id":1,"x":{"id":2},"y":[{"id":3},{"id":4}]})", {}).has_value());
}

BOOST_AUTO_TEST_CASE(random_bytes_never_throw) {
  std::mt19937 rng(7);
  std::string alphabet = "{}[]\":,0123456789.eE+-truefalsn \\u\xff\xc3\xa9";
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    auto len = rng() % 60;
    for (std::size_t k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
    auto r = parse_json(s, small(8));
    if (!r) BOOST_TEST(!r.error().code.empty());
  }
}

BOOST_AUTO_TEST_SUITE_END()

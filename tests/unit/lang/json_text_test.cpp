// dump() writes compact JSON faster than nlohmann (src/core/json_text.cpp) and must write the same
// bytes: every kind of value, escapes, other UTF-8, invalid UTF-8, numbers at their limits, and
// many random values.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <random>

#include "coworker/json.hpp"

using namespace coworker;

namespace {

std::string reference(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string random_string(std::mt19937_64& rng) {
  static const std::string alphabet[] = {"a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f", "\x7f",
                                         "é", "✓", "😀", "\xff", "\xc3", "\xe2\x82"};
  std::string s;
  auto n = rng() % 12;
  for (std::size_t i = 0; i < n; ++i) s += alphabet[rng() % std::size(alphabet)];
  return s;
}

json random_value(std::mt19937_64& rng, int depth) {
  switch (rng() % (depth > 4 ? 6 : 8)) {
    case 0: return nullptr;
    case 1: return rng() % 2 == 0;
    case 2: return static_cast<std::int64_t>(rng());
    case 3: return static_cast<std::uint64_t>(rng());
    case 4: return static_cast<double>(static_cast<std::int64_t>(rng() % 2000001) - 1000000) / 1024.0;
    case 5: return random_string(rng);
    case 6: {
      json o = json::object();
      for (auto n = rng() % 5; n > 0; --n) o[random_string(rng)] = random_value(rng, depth + 1);
      return o;
    }
    default: {
      json a = json::array();
      for (auto n = rng() % 5; n > 0; --n) a.push_back(random_value(rng, depth + 1));
      return a;
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(json_text)

BOOST_AUTO_TEST_CASE(dump_writes_what_nlohmann_writes) {
  const json cases[] = {
      nullptr, true, false, 0, -1, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
      std::numeric_limits<std::uint64_t>::max(), 1.0, -0.0, 0.1, 1e300, -2.5e-308, std::nan(""),
      std::numeric_limits<double>::infinity(), "", "plain", "quote \" backslash \\ slash /", "\b\f\n\r\t\x01\x1f\x7f",
      "é ✓ 😀", "bad \xff byte", "cut \xe2\x82", json::object(), json::array(), json::binary({1, 2, 3}),
      json::parse(R"({"b":[1,{"c":null}],"a":{"":""},"\u00e9":"x"})"), json{{"bad \xfe key", 1}},
  };
  for (const auto& v : cases) BOOST_TEST(dump(v) == reference(v));
  std::mt19937_64 rng(20261203);
  for (int i = 0; i < 3000; ++i) {
    auto v = random_value(rng, 0);
    BOOST_TEST_REQUIRE(dump(v) == reference(v));
  }
}

BOOST_AUTO_TEST_CASE(an_indented_dump_is_nlohmann_s) {
  json v{{"a", {1, 2}}, {"b", "x"}};
  BOOST_TEST(dump(v, 2) == v.dump(2, ' ', false, json::error_handler_t::replace));
}

BOOST_AUTO_TEST_SUITE_END()

// Helpers for the chain language tests: compile text with the built-in operation names.
#pragma once

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <string_view>

#include "chain/compile.hpp"

namespace coworker::test {

inline chain::compile_options builtin_options(limits lim = {}) {
  static const std::set<std::string, std::less<>> known = {"create", "delete",    "extract", "interpret", "log",
                                                           "message", "schema",   "select",  "send",      "summarize",
                                                           "update",  "wait"};
  chain::compile_options o;
  o.lim = lim;
  o.known_operation = [](std::string_view n) { return known.find(n) != known.end(); };
  return o;
}

inline chain::compile_result compile_text(std::string_view text, limits lim = {}) {
  return chain::compile_chain_text(text, builtin_options(lim));
}

/// `children` wrapped into a chain document.
inline std::string chain_of(std::string_view children) {
  return R"({"operation":"run","children":[)" + std::string(children) + "]}";
}

inline std::string describe(const chain::compile_result& r) {
  std::string s;
  for (const auto& e : r.errors) s += "\n  " + (e.path.empty() ? std::string("/") : e.path) + " " + e.code + ": " + e.message;
  return s.empty() ? "no errors" : s;
}

/// Checks that `text` is a valid chain (reporting its errors otherwise).
inline void expect_valid(const std::string& text, limits lim = {}) {
  auto r = compile_text(text, lim);
  BOOST_TEST(r.ok(), text << describe(r));
}

/// The single error of an invalid chain (fails the test when there are more or none).
inline error only_error(const std::string& text, limits lim = {}) {
  auto r = compile_text(text, lim);
  BOOST_TEST_REQUIRE(r.errors.size() == 1u, text << describe(r));
  return r.errors[0];
}

}  // namespace coworker::test

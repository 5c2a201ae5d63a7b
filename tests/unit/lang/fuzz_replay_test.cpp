// Replays every fuzz finding kept in tests/fixtures/fuzz/<target>/ and every committed seed in
// fuzz/seeds/<target>/ through the checks the chain, template and condition fuzz targets run
// (fuzz/lang_checks.hpp): each input gives a clean result or clean errors, never a crash.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lang_checks.hpp"

using namespace coworker;
namespace fs = std::filesystem;

namespace {

struct input {
  std::string name;
  std::string data;
};

/// The findings of `target` first, then its seeds, each sorted by name.
std::vector<input> replay_inputs(const std::string& target) {
  std::vector<input> out;
  for (const auto& dir : {fs::path(COWORKER_FIXTURES) / "fuzz" / target,
                          fs::path(COWORKER_SOURCE_DIR) / "fuzz" / "seeds" / target}) {
    if (!fs::is_directory(dir)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && e.path().filename().string().front() != '.') files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      out.push_back({dir.parent_path().filename().string() + "/" + target + "/" + f.filename().string(), ss.str()});
    }
  }
  return out;
}

std::string join(const fuzz::problems& p) {
  std::string s;
  for (const auto& x : p) s += "\n  " + x;
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fuzz_replay)

BOOST_AUTO_TEST_CASE(chain_inputs_give_a_chain_or_located_errors) {
  auto inputs = replay_inputs("chain");
  BOOST_TEST_REQUIRE(inputs.size() >= 5u);
  int valid = 0, invalid = 0;
  for (const auto& in : inputs) {
    BOOST_TEST_CONTEXT(in.name) {
      auto found = fuzz::check_chain(in.data);
      BOOST_TEST(found.empty(), join(found));
      auto r = chain::compile_chain_text(in.data, chain::compile_options{});
      if (r.ok()) {
        ++valid;
      } else {
        ++invalid;
        for (const auto& e : r.errors) BOOST_TEST((!e.code.empty() && !e.message.empty()));
      }
    }
  }
  BOOST_TEST(valid > 0);
  BOOST_TEST(invalid > 0);
}

BOOST_AUTO_TEST_CASE(template_inputs_compile_and_resolve_or_fail_cleanly) {
  auto inputs = replay_inputs("template");
  BOOST_TEST_REQUIRE(inputs.size() >= 5u);
  for (const auto& in : inputs) {
    BOOST_TEST_CONTEXT(in.name) {
      auto found = fuzz::check_template(in.data);
      BOOST_TEST(found.empty(), join(found));
    }
  }
}

BOOST_AUTO_TEST_CASE(condition_inputs_evaluate_or_fail_cleanly) {
  auto inputs = replay_inputs("condition");
  BOOST_TEST_REQUIRE(inputs.size() >= 5u);
  int compiled = 0, refused = 0;
  for (const auto& in : inputs) {
    BOOST_TEST_CONTEXT(in.name) {
      auto found = fuzz::check_condition(in.data);
      BOOST_TEST(found.empty(), join(found));
      auto c = expr::condition::compile(in.data, "/if");
      if (c) {
        ++compiled;
      } else {
        ++refused;
        BOOST_TEST(!c.error().code.empty());
      }
    }
  }
  BOOST_TEST(compiled > 0);
  BOOST_TEST(refused > 0);
}

BOOST_AUTO_TEST_SUITE_END()

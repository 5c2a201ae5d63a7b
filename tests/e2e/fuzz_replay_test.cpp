// Replays the fuzz findings kept in tests/fixtures/fuzz/{worker,http,config}/ and the committed
// seeds in fuzz/seeds/{worker,http,config}/ through the fuzz targets' own checks: a real broker, a
// real HTTP server on loopback, the config parser (fuzz/worker_checks.hpp, http_checks.hpp,
// config_checks.hpp).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config_checks.hpp"
#include "http_checks.hpp"
#include "worker_checks.hpp"

using namespace coworker;
namespace fs = std::filesystem;

namespace {

/// Every finding and seed of `target`, findings first, each in name order.
std::vector<std::pair<std::string, std::string>> inputs(const std::string& target) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& dir : {fs::path(COWORKER_FIXTURES) / "fuzz" / target, fs::path(COWORKER_SOURCE_DIR) / "fuzz" / "seeds" / target}) {
    if (!fs::is_directory(dir)) continue;
    std::vector<fs::path> here;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && e.path().filename().string().front() != '.') here.push_back(e.path());
    std::sort(here.begin(), here.end());
    for (const auto& p : here) {
      std::ifstream in(p, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      out.emplace_back(p.parent_path().parent_path().filename().string() + "/" + target + "/" + p.filename().string(), ss.str());
    }
  }
  return out;
}

template <class Check>
void replay(const std::string& target, std::size_t at_least, Check check) {
  auto all = inputs(target);
  BOOST_TEST_REQUIRE(all.size() >= at_least);
  for (const auto& [name, data] : all) {
    BOOST_TEST_CONTEXT(name) {
      auto found = check(data);
      std::string text;
      for (const auto& p : found) text += "\n  " + p;
      BOOST_TEST(found.empty(), text);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fuzz_replay)

BOOST_AUTO_TEST_CASE(worker_frames_get_a_clean_answer_from_a_real_broker) {
  fuzz::worker_harness h;
  replay("worker", 10, [&](const std::string& d) { return h.handle(d); });
}

BOOST_AUTO_TEST_CASE(http_requests_get_a_clean_answer_from_a_real_server) {
  fuzz::http_harness h;
  replay("http", 10, [&](const std::string& d) { return h.handle(d); });
  BOOST_TEST(h.eng().active_chains() == 0u);
}

BOOST_AUTO_TEST_CASE(config_files_parse_or_fail_clearly) {
  replay("config", 5, [](const std::string& d) { return fuzz::check_config(d); });
}

BOOST_AUTO_TEST_SUITE_END()

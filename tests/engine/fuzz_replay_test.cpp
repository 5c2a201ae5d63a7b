// Replays every request-frame fuzz finding kept in tests/fixtures/fuzz/request/ and every committed
// seed in fuzz/seeds/request/ through protocol::handle_request on an engine set up like the fuzz
// target's (fuzz/request_checks.hpp): every frame gets a clean reply, and the runs it starts end.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "request_checks.hpp"

using namespace coworker;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(fuzz_replay)

BOOST_AUTO_TEST_CASE(request_frames_get_a_clean_reply) {
  std::vector<fs::path> files;
  for (const auto& dir : {fs::path(COWORKER_FIXTURES) / "fuzz" / "request",
                          fs::path(COWORKER_SOURCE_DIR) / "fuzz" / "seeds" / "request"}) {
    if (!fs::is_directory(dir)) continue;
    std::vector<fs::path> here;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && e.path().filename().string().front() != '.') here.push_back(e.path());
    std::sort(here.begin(), here.end());
    files.insert(files.end(), here.begin(), here.end());
  }
  BOOST_TEST_REQUIRE(files.size() >= 5u);

  fuzz::request_harness h;
  int ok = 0, refused = 0;
  for (const auto& f : files) {
    BOOST_TEST_CONTEXT(f.parent_path().parent_path().filename().string() << "/request/" << f.filename().string()) {
      std::ifstream in(f, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      auto found = h.handle(ss.str());
      std::string all;
      for (const auto& p : found) all += "\n  " + p;
      BOOST_TEST(found.empty(), all);
      const auto& reply = h.last_reply();
      BOOST_TEST_REQUIRE(reply.contains("ok"));
      if (reply["ok"] == true) {
        ++ok;
      } else {
        ++refused;
        BOOST_TEST(!reply["error"]["code"].get<std::string>().empty());
      }
    }
  }
  BOOST_TEST(ok > 0);
  BOOST_TEST(refused > 0);
  BOOST_TEST(!h.last_run().empty());
  BOOST_TEST(h.eng().active_chains() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

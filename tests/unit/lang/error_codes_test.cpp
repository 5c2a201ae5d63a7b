// The closed list of error codes: include/coworker/error.hpp (codes::all), docs/errors.md and the
// sources agree. A code added in one place and not the others fails here.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <string>

#include "coworker/error.hpp"

namespace {

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::set<std::string> matches(const std::string& text, const std::regex& re) {
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
    out.insert((*it)[1].str());
  return out;
}

const std::filesystem::path root = COWORKER_SOURCE_DIR;

}  // namespace

BOOST_AUTO_TEST_SUITE(error_codes)

BOOST_AUTO_TEST_CASE(header_list_and_docs_agree) {
  std::set<std::string> listed(std::begin(coworker::codes::all), std::end(coworker::codes::all));
  BOOST_TEST(listed.size() == std::size(coworker::codes::all));  // no code twice
  auto header = read(root / "include/coworker/error.hpp");
  auto declared = matches(header, std::regex(R"re(inline constexpr const char\* \w+ = "(\w+)";)re"));
  BOOST_TEST(declared == listed, "a constant of error.hpp is missing from codes::all");
  auto docs = read(root / "docs/errors.md");
  auto documented = matches(docs, std::regex(R"re(\n\| `(\w+)` \|)re"));
  for (const auto& c : listed) BOOST_TEST(documented.count(c) == 1u, c << " is not in docs/errors.md");
  for (const auto& c : documented) BOOST_TEST(listed.count(c) == 1u, c << " is in docs/errors.md but not in codes::all");
}

BOOST_AUTO_TEST_CASE(the_sources_use_only_listed_codes) {
  std::set<std::string> listed(std::begin(coworker::codes::all), std::end(coworker::codes::all));
  const std::regex literal(R"re(make_error\(\s*"(\w+)")re");
  const std::regex named(R"re(codes::(\w+))re");
  std::size_t files = 0;
  for (const char* dir : {"src", "actors", "cli", "include"}) {
    for (const auto& f : std::filesystem::recursive_directory_iterator(root / dir)) {
      auto ext = f.path().extension();
      if (ext != ".cpp" && ext != ".hpp") continue;
      ++files;
      auto text = read(f.path());
      for (const auto& c : matches(text, literal))
        BOOST_TEST(false, f.path().string() << ": make_error(\"" << c << "\") — use a codes:: constant");
      for (const auto& c : matches(text, named))
        if (c != "all") BOOST_TEST(listed.count(c) == 1u, f.path().string() << ": codes::" << c << " is not listed");
    }
  }
  BOOST_TEST(files > 50u);
}

BOOST_AUTO_TEST_SUITE_END()

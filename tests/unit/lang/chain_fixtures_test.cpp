// The fixture chains (tests/fixtures, format in its README.md), the examples, and a bounded
// random-mutation run over both: every input gives a valid chain or errors with a code and a
// JSON Pointer into that input; nothing crashes or throws.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "chain/compile.hpp"
#include "chain/json_parse.hpp"
#include "lang_test_util.hpp"

using namespace coworker;
using namespace coworker::test;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> json_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

/// The document text of an invalid fixture: "chain" (JSON), "text" (raw text) or "bytes" (hex).
std::string fixture_text(const json& f) {
  if (f.contains("text")) return f["text"].get<std::string>();
  if (f.contains("bytes")) return from_hex(f["bytes"].get<std::string>());
  return f["chain"].dump();
}

limits fixture_limits(const json& f) {
  limits lim;
  if (!f.contains("limits")) return lim;
  const auto& l = f["limits"];
  if (l.contains("max_steps")) lim.max_steps = l["max_steps"].get<std::size_t>();
  if (l.contains("max_chain_depth")) lim.max_chain_depth = l["max_chain_depth"].get<int>();
  if (l.contains("max_json_depth")) lim.max_json_depth = l["max_json_depth"].get<int>();
  if (l.contains("max_request_bytes")) lim.max_request_bytes = l["max_request_bytes"].get<std::size_t>();
  return lim;
}

bool valid_pointer_into(const json& doc, const std::string& path) {
  if (path.empty()) return true;
  try {
    return doc.contains(json::json_pointer(path));
  } catch (const std::exception&) {
    return false;
  }
}

bool valid_pointer_syntax(const std::string& path) {
  try {
    json::json_pointer p(path);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(chain_fixtures)

BOOST_AUTO_TEST_CASE(every_invalid_fixture_gives_its_code_and_path) {
  auto files = json_files(fs::path(COWORKER_FIXTURES) / "invalid");
  BOOST_TEST(files.size() >= 45u);
  for (const auto& file : files) {
    BOOST_TEST_CONTEXT(file.filename().string()) {
      auto f = json::parse(slurp(file));
      auto r = compile_text(fixture_text(f), fixture_limits(f));
      json expect = f["expect"].is_array() ? f["expect"] : json::array({f["expect"]});
      BOOST_TEST_REQUIRE(r.errors.size() == expect.size(), describe(r));
      for (std::size_t i = 0; i < expect.size(); ++i) {
        BOOST_TEST(r.errors[i].code == expect[i]["code"].get<std::string>(), describe(r));
        BOOST_TEST(r.errors[i].path == expect[i]["path"].get<std::string>(), describe(r));
        BOOST_TEST(!r.errors[i].message.empty());
      }
      BOOST_TEST(!r.doc);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_valid_fixture_validates) {
  auto files = json_files(fs::path(COWORKER_FIXTURES) / "valid");
  BOOST_TEST(files.size() >= 12u);
  for (const auto& file : files) {
    BOOST_TEST_CONTEXT(file.filename().string()) {
      auto r = compile_text(slurp(file));
      BOOST_TEST(r.ok(), describe(r));
      if (r.ok()) BOOST_TEST(r.doc->step_count >= 2u);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_example_validates) {
  auto files = json_files(fs::path(COWORKER_EXAMPLES));
  BOOST_TEST(files.size() >= 5u);
  for (const auto& file : files) {
    BOOST_TEST_CONTEXT(file.filename().string()) {
      auto r = compile_text(slurp(file));
      BOOST_TEST(r.ok(), describe(r));
    }
  }
}

BOOST_AUTO_TEST_CASE(random_mutations_give_a_chain_or_located_errors) {
  std::vector<json> seeds;
  for (const auto& f : json_files(fs::path(COWORKER_EXAMPLES))) seeds.push_back(json::parse(slurp(f)));
  for (const auto& f : json_files(fs::path(COWORKER_FIXTURES) / "valid")) seeds.push_back(json::parse(slurp(f)));
  for (const auto& f : json_files(fs::path(COWORKER_FIXTURES) / "invalid")) {
    auto j = json::parse(slurp(f));
    if (j.contains("chain")) seeds.push_back(j["chain"]);
  }
  BOOST_REQUIRE(!seeds.empty());

  std::mt19937 rng(20240611);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const std::vector<json> scalars = {nullptr, true, 0, -1, 1.5, "", "x", "{{", "{{prev.output}}", "{{nope.x}}",
                                     "run", "log", json::array(), json::object(), json::array({1}),
                                     json{{"operation", "log"}}, "onerror", "{{a}} >"};
  const std::vector<std::string> keys = {"onerror", "operation", "children", "parallel", "operations", "forEach",
                                         "as", "do", "id", "if", "options", "retry", "zzz", "input"};
  int valid = 0, invalid = 0;
  for (int round = 0; round < 5000; ++round) {
    json doc = seeds[pick(seeds.size())];
    int edits = 1 + static_cast<int>(pick(3));
    for (int k = 0; k < edits; ++k) {
      std::vector<json::json_pointer> nodes;
      // Collect up to a few hundred node pointers (flatten gives leaves; add their parents).
      const json flat = doc.flatten();  // items() of a temporary would dangle
      for (const auto& [p, v] : flat.items()) {
        json::json_pointer jp(p);
        nodes.push_back(jp);
        if (!jp.empty()) nodes.push_back(jp.parent_pointer());
      }
      if (nodes.empty()) break;
      auto at = nodes[pick(nodes.size())];
      json& target = doc[at];
      switch (pick(6)) {
        case 0:  // delete it
          if (!at.empty()) {
            auto parent = at.parent_pointer();
            auto key = at.back();
            if (doc[parent].is_object()) doc[parent].erase(key);
            else if (doc[parent].is_array() && !doc[parent].empty()) doc[parent].erase(std::stoul(key) % doc[parent].size());
          }
          break;
        case 1:  // retype
          target = scalars[pick(scalars.size())];
          break;
        case 2:  // duplicate into a sibling or a new field
          if (target.is_array() && !target.empty()) target.push_back(target[pick(target.size())]);
          else if (target.is_object()) target[keys[pick(keys.size())]] = target;
          break;
        case 3:  // add a field
          if (target.is_object()) target[keys[pick(keys.size())]] = scalars[pick(scalars.size())];
          break;
        case 4: {  // nest deeply
          json v = target;
          int depth = static_cast<int>(pick(4)) * 30;
          for (int d = 0; d < depth; ++d) v = json::array({std::move(v)});
          target = std::move(v);
          break;
        }
        default:  // rename a key (typo)
          if (target.is_object() && !target.empty()) {
            auto it = target.begin();
            std::advance(it, static_cast<long>(pick(target.size())));
            auto name = it.key();
            auto val = *it;
            target.erase(name);
            if (!name.empty()) name[pick(name.size())] ^= 0x20;
            target[name] = val;
          }
      }
    }
    std::string text = doc.dump();
    const bool text_edit = pick(4) == 0;
    if (text_edit) {
      switch (pick(3)) {
        case 0: text.resize(pick(text.size() + 1)); break;
        case 1: if (!text.empty()) text[pick(text.size())] ^= static_cast<char>(1 << pick(8)); break;
        default: text.insert(pick(text.size() + 1), 1, static_cast<char>(rng() & 0xff));
      }
    }
    chain::compile_result r;
    BOOST_CHECK_NO_THROW(r = compile_text(text));
    auto parsed = chain::parse_json(text, limits{});
    if (r.ok()) {
      ++valid;
      BOOST_TEST(r.doc);
      continue;
    }
    ++invalid;
    for (const auto& e : r.errors) {
      BOOST_TEST(!e.code.empty());
      BOOST_TEST(!e.message.empty());
      if (parsed)
        BOOST_TEST(valid_pointer_into(*parsed, e.path), e.path << " " << e.code << ": " << e.message << "\n" << text.substr(0, 300));
      else
        BOOST_TEST(valid_pointer_syntax(e.path), e.path);
    }
    // The same document handed over as JSON gives the same errors.
    if (parsed && round % 10 == 0) {
      auto direct = chain::compile_chain(*parsed, builtin_options());
      BOOST_TEST(direct.errors == r.errors);
    }
  }
  BOOST_TEST_MESSAGE("mutations: " << valid << " valid, " << invalid << " invalid");
  BOOST_TEST(invalid > 1000);
}

BOOST_AUTO_TEST_SUITE_END()

// Large values by reference (src/core/blob.hpp): ids, references, what is put aside and put back.
#include <map>

#include <boost/test/unit_test.hpp>

#include "core/blob.hpp"

using namespace coworker;

namespace {
constexpr std::size_t kib64 = 64 * 1024;

std::function<std::optional<std::string>(const std::string&)> from(const std::vector<blob::stored>& kept) {
  return [kept](const std::string& id) -> std::optional<std::string> {
    for (const auto& s : kept)
      if (s.id == id) return s.text;
    return std::nullopt;
  };
}
}  // namespace

BOOST_AUTO_TEST_SUITE(blobs)

BOOST_AUTO_TEST_CASE(an_id_is_the_sha256_of_the_text) {
  BOOST_TEST(blob::id_of("abc") == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  BOOST_TEST(blob::id_of("") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

BOOST_AUTO_TEST_CASE(a_reference_has_exactly_its_two_members) {
  auto id = blob::id_of("x");
  BOOST_TEST(blob::is_ref(blob::make_ref(id, 3)));
  BOOST_TEST(!blob::is_ref(json{{"$blob", id}}));
  BOOST_TEST(!blob::is_ref(json{{"$blob", id}, {"bytes", 3}, {"more", 1}}));
  BOOST_TEST(!blob::is_ref(json{{"$blob", "sha256:XYZ"}, {"bytes", 3}}));
  BOOST_TEST(!blob::is_ref(json{{"$blob", id}, {"bytes", -3}}));
  BOOST_TEST(!blob::is_ref(json{{"$blob", "md5:" + id.substr(7)}, {"bytes", 3}}));
}

BOOST_AUTO_TEST_CASE(a_small_value_stays_whole) {
  std::vector<blob::stored> kept;
  json v{{"text", std::string(1000, 'a')}};
  BOOST_TEST(blob::externalize(v, kib64, kept) == v);
  BOOST_TEST(kept.empty());
}

BOOST_AUTO_TEST_CASE(a_large_value_is_put_aside_once_and_put_back) {
  std::vector<blob::stored> kept;
  json big = std::string(100 * 1024, 'b');
  auto ref = blob::externalize(big, kib64, kept);
  BOOST_REQUIRE(blob::is_ref(ref));
  BOOST_REQUIRE(kept.size() == 1u);
  BOOST_TEST(ref["bytes"] == dump(big).size());
  BOOST_TEST(ref["$blob"] == blob::id_of(kept[0].text));
  BOOST_TEST(*blob::resolve(ref, from(kept)) == big);
}

BOOST_AUTO_TEST_CASE(a_value_carried_unchanged_references_the_same_blob) {
  // A chain's output carries its last step's output (docs/run-record.md): one blob for both.
  json step_output{{"items", json::array()}};
  for (int i = 0; i < 4000; ++i) step_output["items"].push_back(json{{"title", "item " + std::to_string(i)}, {"n", i}});
  std::vector<blob::stored> kept;
  auto step_ref = blob::externalize(step_output, kib64, kept);
  json chain_output{{"steps", {"run-1", "run-2"}}, {"success", true}, {"last", step_output}};
  auto chain_ref = blob::externalize(chain_output, kib64, kept);
  BOOST_TEST(kept.size() == 1u);
  BOOST_TEST(chain_ref["last"] == step_ref);
  BOOST_TEST(chain_ref["steps"] == chain_output["steps"]);
  BOOST_TEST(*blob::resolve(chain_ref, from(kept)) == chain_output);
}

BOOST_AUTO_TEST_CASE(many_small_members_make_one_blob_of_the_whole) {
  json list = json::array();
  for (int i = 0; i < 3000; ++i) list.push_back(std::string(40, 'c'));
  std::vector<blob::stored> kept;
  auto ref = blob::externalize(json{{"list", list}}, kib64, kept);
  BOOST_REQUIRE(kept.size() == 1u);  // the list (no member of it is large); the object around it is small
  BOOST_TEST(blob::is_ref(ref["list"]));
  BOOST_TEST(*blob::resolve(ref, from(kept)) == json({{"list", list}}));
}

BOOST_AUTO_TEST_CASE(a_missing_or_altered_blob_is_an_error_naming_it) {
  std::vector<blob::stored> kept;
  auto ref = blob::externalize(json(std::string(70 * 1024, 'd')), kib64, kept);
  auto missing = blob::resolve(ref, from({}));
  BOOST_REQUIRE(!missing);
  BOOST_TEST(missing.error().code == codes::not_found);
  BOOST_TEST(missing.error().message.find(kept[0].id) != std::string::npos);
  kept[0].text[5] = 'e';
  auto altered = blob::resolve(ref, from(kept));
  BOOST_REQUIRE(!altered);
  BOOST_TEST(altered.error().code == codes::store_error);
}

BOOST_AUTO_TEST_SUITE_END()

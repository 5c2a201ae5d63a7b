// Published chains without an engine (docs/chain-language.md, "Published chains"): references taken
// apart, versions and aliases resolved, the call graph walked for cycles, and calls by name compiled
// against a library: pinned, both forms refused together, contracts with their pointers.
#include <boost/test/unit_test.hpp>

#include "chain/compile.hpp"
#include "core/chain_library.hpp"

using namespace coworker;

namespace {

std::shared_ptr<const chain_definition> def(const std::string& name, int version, std::vector<std::string> called = {},
                                            json output_schema = nullptr) {
  chain::compile_options o;
  auto compiled = chain::compile_chain(json::parse(R"({"operation":"run","children":[{"id":"s","operation":"op"}]})"), o);
  BOOST_REQUIRE(compiled.ok());
  auto ref = std::make_shared<chain::chain_ref>();
  ref->name = name;
  ref->version = version;
  ref->sha256 = std::string(64, static_cast<char>('0' + version));
  ref->root = compiled.doc->root;
  ref->output_schema = std::move(output_schema);
  auto d = std::make_shared<chain_definition>();
  d->ref = std::move(ref);
  d->doc = compiled.doc;
  d->called = std::move(called);
  return d;
}

chain::compile_options with(const chain_library& lib) {
  chain::compile_options o;
  o.resolve_chain = [&lib](std::string_view ref) -> expected<std::shared_ptr<const chain::chain_ref>> {
    auto d = lib.resolve(ref);
    if (!d) return d.error();
    return (*d)->ref;
  };
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(chain_library_rules)

BOOST_AUTO_TEST_CASE(references_name_a_version_an_alias_or_the_latest) {
  auto v = parse_chain_reference("triage@3", "/chain");
  BOOST_TEST((v->name == "triage" && v->version == 3 && v->alias.empty()));
  auto a = parse_chain_reference("triage:prod", "/chain");
  BOOST_TEST((a->alias == "prod" && a->version == 0));
  BOOST_TEST(parse_chain_reference("triage", "").value().version == 0);
  for (const char* bad : {"", "@3", "triage@", "triage@0", "triage@x", "tri age", "triage:", "a@1@2", "triage@1234567890"})
    BOOST_TEST(parse_chain_reference(bad, "/chain").error().path == "/chain", bad);

  chain_library lib;
  lib.add(def("triage", 1));
  lib.add(def("triage", 2));
  BOOST_TEST(lib.resolve("triage").value()->ref->version == 2);
  BOOST_TEST(lib.resolve("triage@1").value()->ref->version == 1);
  BOOST_TEST(lib.resolve("triage@3").error().code == codes::not_found);
  BOOST_TEST(lib.resolve("triage:prod").error().code == codes::not_found);
  BOOST_REQUIRE(lib.set_alias("triage", "prod", 1).has_value());
  BOOST_TEST(lib.resolve("triage:prod").value()->ref->version == 1);
  BOOST_TEST(lib.set_alias("triage", "prod", 3).error().path == "/version");
  BOOST_TEST(lib.find("triage", std::string(64, '2'))->ref->version == 2);
  BOOST_TEST(lib.next_version("triage") == 3);
  BOOST_TEST(lib.next_version("other") == 1);
  BOOST_TEST(lib.list()[0]["aliases"] == (json{{"prod", 1}}));
}

BOOST_AUTO_TEST_CASE(the_call_graph_gives_the_way_from_one_name_to_another) {
  chain_library lib;
  lib.add(def("c", 1));
  lib.add(def("b", 1, {"c"}));
  lib.add(def("a", 1, {"b"}));
  lib.add(def("c", 2, {"d"}));
  BOOST_TEST(lib.path("a", "c") == (std::vector<std::string>{"a", "b", "c"}));
  BOOST_TEST(lib.path("a", "d") == (std::vector<std::string>{"a", "b", "c", "d"}));  // through any version
  BOOST_TEST(lib.path("c", "a").empty());
}

BOOST_AUTO_TEST_CASE(a_call_by_name_is_pinned_and_checked_where_it_is) {
  chain_library lib;
  lib.add(def("scorer", 1, {}, json::parse(R"({"type":"object","properties":{"score":{"type":"number"}}})")));
  auto ok = chain::compile_chain(json::parse(R"({"operation":"run","children":[
      {"id":"t","operation":"run","chain":"scorer"},{"id":"u","operation":"op","input":"{{t.output.score}}"}]})"), with(lib));
  BOOST_REQUIRE(ok.ok());
  BOOST_TEST(ok.pins == (std::vector<std::pair<std::string, std::string>>{{"/children/0/chain", "scorer@1"}}));
  BOOST_TEST(ok.called == std::vector<std::string>{"scorer"});
  BOOST_TEST(ok.doc->root->children[0]->call->version == 1);

  auto missing = chain::compile_chain(json::parse(R"({"operation":"run","children":[
      {"id":"t","operation":"run","chain":"scorer"},{"id":"u","operation":"op","input":{"x":"{{t.output.grade}}"}}]})"), with(lib));
  BOOST_REQUIRE_EQUAL(missing.errors.size(), 1u);
  BOOST_TEST(missing.errors[0].code == codes::unknown_reference);
  BOOST_TEST(missing.errors[0].path == "/children/1/input/x");
  BOOST_TEST(missing.errors[0].message.find("(it has score)") != std::string::npos, missing.errors[0].message);

  auto both = chain::compile_chain(json::parse(R"({"operation":"run","children":[
      {"id":"t","operation":"run","chain":"scorer","children":[{"operation":"op"}]}]})"), with(lib));
  BOOST_TEST(both.errors.at(0).path == "/children/0/chain");
  auto unknown = chain::compile_chain(json::parse(R"({"operation":"run","children":[{"operation":"run","chain":"ghost@2"}]})"), with(lib));
  BOOST_TEST(unknown.errors.at(0).code == codes::not_found);
  BOOST_TEST(unknown.errors.at(0).path == "/children/0/chain");
  chain::compile_options offline;  // no library: refused, with its place
  auto nowhere = chain::compile_chain(json::parse(R"({"operation":"run","children":[{"operation":"run","chain":"scorer"}]})"), offline);
  BOOST_TEST(nowhere.errors.at(0).path == "/children/0/chain");
  auto not_string = chain::compile_chain(json::parse(R"({"operation":"run","children":[{"operation":"run","chain":3}]})"), with(lib));
  BOOST_TEST(not_string.errors.at(0).path == "/children/0/chain");
}

BOOST_AUTO_TEST_SUITE_END()

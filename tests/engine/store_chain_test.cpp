// The seed's scenarios end to end on a real SQLite file: the triage chain, and many chains writing
// documents at once.
#include <filesystem>
#include <fstream>

#include "engine_fixture.hpp"
#include "store/document_store.hpp"
#include "../postgres.hpp"
#include "../temp_dir.hpp"

using namespace coworker;
using namespace coworker::test;
namespace fs = std::filesystem;

namespace {

struct store_engine {
  test::temp_dir dir{"e2e"};
  std::unique_ptr<engine> eng;
  explicit store_engine(json ops_config = json::object()) {
    engine_config c;
    c.db_path = test::store_at(dir.file("coworker.db"));
    c.ops_config = std::move(ops_config);
    c.log_sink = [](std::string_view, std::string_view) {};
    eng = std::make_unique<engine>(c);
    BOOST_REQUIRE(!eng->startup_error());
  }
  ~store_engine() { eng.reset(); }
  json run(const json& chain) {
    auto t = eng->run(chain);
    BOOST_REQUIRE_MESSAGE(t.has_value(), (t ? "" : t.error().message));
    return *t;
  }
  json select(const std::string& doctype, const json& where = json::object()) {
    auto t = run(json{{"operation", "run"},
                      {"children", json::array({json{{"operation", "select"}, {"doctype", doctype},
                                                      {"input", {{"where", where}}}}})}});
    return tree_last(t)["data"];
  }
  static json tree_last(const json& t) { return t["output"]["last"]; }
  json load(const std::string& file) {
    std::ifstream in(file);
    return json::parse(in);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(store_chains)

BOOST_AUTO_TEST_CASE(triage_reads_summarizes_creates_marks_read_and_recovers_send) {
  store_engine s;
  auto emails = s.load(std::string(COWORKER_EXAMPLES) + "/data/emails.json");
  s.run(json{{"operation", "run"},
             {"children", json::array({json{{"operation", "create"}, {"doctype", "Email"}, {"input", {{"data", emails}}}}})}});
  std::size_t unread = 0;
  for (const auto& e : emails) unread += e["unread"].get<bool>();
  BOOST_REQUIRE(unread > 5);

  auto tree = s.run(s.load(std::string(COWORKER_EXAMPLES) + "/triage.json"));
  BOOST_TEST(tree["status"] == "completed");
  BOOST_TEST(step(tree, "emails")["output"]["data"].size() == unread);
  BOOST_TEST(step(tree, "summary")["output"]["count"] == unread);
  BOOST_TEST(step(tree, "notify")["status"] == "completed");
  BOOST_TEST(step(tree, "send")["status"] == "failed");
  BOOST_TEST(step(tree, "send")["recovered"] == true);
  BOOST_TEST(step(tree, "send")["error"]["code"] == "no_destination");

  auto notes = s.select("Notification");
  BOOST_REQUIRE_EQUAL(notes.size(), 1u);
  BOOST_TEST(notes[0]["text"] == step(tree, "summary")["output"]["summary"]);
  BOOST_TEST(s.select("Task").size() == 1u);
  BOOST_TEST(s.select("Email", json{{"unread", true}}).empty());  // all marked read
  BOOST_TEST(s.select("Email").size() == emails.size());
}

BOOST_AUTO_TEST_CASE(send_with_an_outbox_destination_delivers) {
  store_engine s(json{{"send", {{"destination", "outbox"}}}});
  auto tree = s.run(json::parse(R"({"operation":"run","children":[
      {"id":"s","operation":"send","input":{"to":"ann@example.com","subject":"hi","body":"hello"}}]})"));
  BOOST_TEST(step(tree, "s")["output"]["delivered"] == true);
  auto out = s.select("Outbox");
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST(out[0]["to"] == "ann@example.com");
}

BOOST_AUTO_TEST_CASE(hundred_chains_create_and_update_with_exact_counts) {
  store_engine s;
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    auto chain = json::parse(R"({"operation":"run","children":[
        {"id":"mk","operation":"create","doctype":"Item","input":{"data":[{"k":0,"v":1},{"k":0,"v":2},{"k":0,"v":3}]}},
        {"id":"up","operation":"update","doctype":"Item","input":{"where":{"k":0,"chain":null},"data":{"touched":true}}},
        {"id":"mine","operation":"update","doctype":"Item",
         "input":{"where":{"name":{"$in":["{{mk.output.data[0].name}}","{{mk.output.data[1].name}}"]}},
                  "data":{"chain":"done"}}}]})");
    chain["children"][0]["input"]["data"][0]["k"] = i;
    chain["children"][0]["input"]["data"][1]["k"] = i;
    chain["children"][0]["input"]["data"][2]["k"] = i;
    chain["children"][1]["input"]["where"]["k"] = i;
    auto id = s.eng->submit(chain);
    BOOST_REQUIRE(id.has_value());
    ids.push_back(*id);
  }
  for (const auto& id : ids) {
    auto r = s.eng->wait(id, std::chrono::seconds(60));
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(to_string(r->status) == "completed");
  }
  BOOST_TEST(s.select("Item").size() == 300u);
  BOOST_TEST(s.select("Item", json{{"touched", true}}).size() == 300u);
  BOOST_TEST(s.select("Item", json{{"chain", "done"}}).size() == 200u);
}

BOOST_AUTO_TEST_CASE(bad_operation_input_fails_the_step_clearly) {
  store_engine s;
  auto tree = s.run(json::parse(R"({"operation":"run","children":[
      {"id":"u","operation":"update","doctype":"Task","input":{"data":{"x":1}}}]})"));
  BOOST_TEST(step(tree, "u")["error"]["code"] == "invalid_input");
  BOOST_TEST(step(tree, "u")["error"]["message"].get<std::string>().find("where") != std::string::npos);
  auto t2 = s.run(json::parse(R"({"operation":"run","children":[{"id":"q","operation":"select"}]})"));
  BOOST_TEST(step(t2, "q")["error"]["message"].get<std::string>().find("doctype") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(text_operations)

BOOST_AUTO_TEST_CASE(summarize_extract_interpret_and_schema_are_deterministic) {
  store_engine s;
  auto chain = json::parse(R"({"operation":"run","input":{"data":[
      {"name":"e1","from":"Ann <ann@x.example>","subject":"Budget","unread":true,
       "body":"Hi. Please review the budget by Friday. Thanks."},
      {"name":"e2","from":"Bob <bob@x.example>","subject":"Lunch","unread":false,"body":"Lunch at noon?"},
      {"name":"e3","from":"Ann <ann@x.example>","subject":"Report","unread":true,
       "body":"Can you send the report tomorrow? It is needed."}]},
    "children":[
      {"id":"sum","operation":"summarize","input":"{{input}}"},
      {"id":"ex","operation":"extract","input":"{{input}}"},
      {"id":"in","operation":"interpret","input":{"text":"Please remind me to email bob@x.example tomorrow"}},
      {"id":"sch","operation":"schema","doctype":"Task"}]})");
  auto a = s.run(chain);
  auto b = s.run(chain);
  for (const char* id : {"sum", "ex", "in", "sch"}) BOOST_TEST(step(a, id)["output"] == step(b, id)["output"]);
  const auto& sum = step(a, "sum")["output"];
  BOOST_TEST(sum["count"] == 3);
  BOOST_TEST(sum["unread"] == 2);
  BOOST_TEST(sum["senders"] == json::array({"Ann <ann@x.example>", "Bob <bob@x.example>"}));
  BOOST_TEST(sum["summary"] == "3 items (2 unread) from Ann <ann@x.example>, Bob <bob@x.example>: Budget; Lunch; Report");
  const auto& items = step(a, "ex")["output"]["items"];
  BOOST_REQUIRE_EQUAL(items.size(), 2u);
  BOOST_TEST(items[0] == json::parse(R"({"text":"Please review the budget by Friday.","source":"e1","due":"friday"})"));
  BOOST_TEST(items[1]["source"] == "e3");
  BOOST_TEST(items[1]["due"] == "tomorrow");
  const auto& intent = step(a, "in")["output"];
  BOOST_TEST(intent["intent"] == "remind");
  BOOST_TEST(intent["entities"]["emails"] == json::array({"bob@x.example"}));
  BOOST_TEST(intent["entities"]["when"] == "tomorrow");
  const auto& schema = step(a, "sch")["output"];
  BOOST_TEST(schema["fields"]["title"]["required"] == true);
}

BOOST_AUTO_TEST_SUITE_END()

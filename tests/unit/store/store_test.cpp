// The document store on a real SQLite file and on a real PostgreSQL 15 database (each case of the
// first suite runs on both: docs/store.md, "Two databases"): operators, paging, schemas, group
// commit; bad files on SQLite.
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include "store/document_store.hpp"
#include "../../postgres.hpp"
#include "../../temp_dir.hpp"

using namespace coworker;
using namespace coworker::store;
namespace fs = std::filesystem;

namespace {

struct on_sqlite {
  static constexpr bool postgresql = false;
};
struct on_postgresql {
  static constexpr bool postgresql = true;
};
using backends = boost::mpl::list<on_sqlite, on_postgresql>;

template <class Backend>
struct store_fixture {
  test::temp_dir dir{"store"};
  std::unique_ptr<test::postgres_database> pg;
  std::shared_ptr<document_store> db;
  store_fixture() {
    if (Backend::postgresql) pg = std::make_unique<test::postgres_database>();
    schema_registry schemas;
    BOOST_REQUIRE(schemas.load_dir(std::string(COWORKER_SOURCE_DIR) + "/config/doctypes"));
    auto s = document_store::open(pg ? pg->url() : dir.file("store.db"), std::move(schemas));
    BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().message));
    db = *s;
    auto people = json::parse(R"([
      {"name":"p1","first":"Ann","age":31,"city":"Oslo","tags":["a"],"address":{"zip":"0150"},"vip":true},
      {"name":"p2","first":"Bob","age":25,"city":"Rome","address":{"zip":"00100"},"vip":false},
      {"name":"p3","first":"Cleo","age":40,"city":"Oslo","address":{"zip":"0151"},"vip":false},
      {"name":"p4","first":"Dan","age":25,"city":"Paris","vip":true}])");
    BOOST_REQUIRE(db->create("Person", people).has_value());
  }
  ~store_fixture() { db.reset(); }
  std::vector<std::string> names(const json& where, const json& extra = json::object()) {
    json q = extra;
    q["where"] = where;
    auto r = db->select("Person", q);
    BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
    std::vector<std::string> out;
    for (const auto& d : (*r)["data"]) out.push_back(d["name"]);
    return out;
  }
};

using names_t = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(store)

BOOST_FIXTURE_TEST_CASE_TEMPLATE(equality_and_every_operator, B, backends, store_fixture<B>) {
  BOOST_TEST(this->names(json{{"city", "Oslo"}}) == (names_t{"p1", "p3"}));
  BOOST_TEST(this->names(json{{"age", {{"$eq", 25}}}}) == (names_t{"p2", "p4"}));
  BOOST_TEST(this->names(json{{"city", {{"$ne", "Oslo"}}}}) == (names_t{"p2", "p4"}));
  BOOST_TEST(this->names(json{{"age", {{"$gt", 30}}}}) == (names_t{"p1", "p3"}));
  BOOST_TEST(this->names(json{{"age", {{"$gte", 31}}}}) == (names_t{"p1", "p3"}));
  BOOST_TEST(this->names(json{{"age", {{"$lt", 31}}}}) == (names_t{"p2", "p4"}));
  BOOST_TEST(this->names(json{{"age", {{"$lte", 31}}}}) == (names_t{"p1", "p2", "p4"}));
  BOOST_TEST(this->names(json{{"city", {{"$in", {"Rome", "Paris"}}}}}) == (names_t{"p2", "p4"}));
  BOOST_TEST(this->names(json{{"first", {{"$like", "%o%"}}}}) == (names_t{"p2", "p3"}));
  BOOST_TEST(this->names(json{{"vip", true}}) == (names_t{"p1", "p4"}));
  BOOST_TEST(this->names(json{{"age", {{"$gt", 20}, {"$lt", 30}}}}) == (names_t{"p2", "p4"}));
}

BOOST_FIXTURE_TEST_CASE_TEMPLATE(fields_are_anded_and_nested_by_dotted_name, B, backends, store_fixture<B>) {
  BOOST_TEST(this->names(json{{"city", "Oslo"}, {"age", {{"$gt", 35}}}}) == (names_t{"p3"}));
  BOOST_TEST(this->names(json{{"address.zip", {{"$like", "015%"}}}}) == (names_t{"p1", "p3"}));
  BOOST_TEST(this->names(json{{"name", "p2"}}) == (names_t{"p2"}));
  BOOST_TEST(this->names(json{{"address.zip", nullptr}}) == (names_t{"p4"}));  // missing counts as null
}

BOOST_FIXTURE_TEST_CASE_TEMPLATE(order_limit_offset_and_fields, B, backends, store_fixture<B>) {
  BOOST_TEST(this->names(json::object(), json{{"orderBy", "-age"}}) == (names_t{"p3", "p1", "p2", "p4"}));
  BOOST_TEST(this->names(json::object(), json{{"orderBy", {"age", "first desc"}}}) == (names_t{"p4", "p2", "p1", "p3"}));
  BOOST_TEST(this->names(json::object(), json{{"orderBy", "age"}, {"limit", 2}, {"offset", 1}}) == (names_t{"p4", "p1"}));
  auto r = this->db->select("Person", json{{"where", {{"name", "p1"}}}, {"fields", {"first", "address.zip"}}});
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST((*r)["data"][0] == json::parse(R"({"name":"p1","first":"Ann","address":{"zip":"0150"}})"));
}

BOOST_FIXTURE_TEST_CASE_TEMPLATE(bad_queries_are_clear_errors, B, backends, store_fixture<B>) {
  auto e = this->db->select("Person", json{{"where", {{"age", {{"$gtt", 1}}}}}});
  BOOST_REQUIRE(!e.has_value());
  BOOST_TEST(e.error().code == "invalid_input");
  BOOST_TEST(e.error().message.find("where.age") != std::string::npos);
  BOOST_TEST(e.error().message.find("$gtt") != std::string::npos);
  BOOST_TEST(this->db->select("Person", json{{"limit", -1}}).error().message.find("limit") != std::string::npos);
  BOOST_TEST(this->db->select("Person", json{{"wher", json::object()}}).error().code == "invalid_input");
  BOOST_TEST(this->db->select("Person", json{{"where", {{"a\"b", 1}}}}).error().code == "invalid_input");
  // Values are bound, never spliced into SQL.
  BOOST_TEST(this->names(json{{"city", "x' OR '1'='1"}}).empty());
}

BOOST_FIXTURE_TEST_CASE_TEMPLATE(created_documents_get_name_created_modified, B, backends, store_fixture<B>) {
  auto r = this->db->create("Note", json{{"text", "hi"}});
  BOOST_REQUIRE(r.has_value());
  const auto& doc = (*r)["data"][0];
  BOOST_TEST(doc["name"].template get<std::string>().rfind("note-", 0) == 0);
  BOOST_TEST(doc["created"].is_number_integer());
  BOOST_TEST(doc["modified"] == doc["created"]);
  auto dup = this->db->create("Person", json{{"name", "p1"}});
  BOOST_REQUIRE(!dup.has_value());
  BOOST_TEST(dup.error().code == "invalid_document");
}

BOOST_FIXTURE_TEST_CASE_TEMPLATE(update_merges_and_delete_returns_names, B, backends, store_fixture<B>) {
  auto u = this->db->update("Person", json{{"city", "Oslo"}}, json{{"city", "Bergen"}, {"address", {{"zip", nullptr}}}});
  BOOST_REQUIRE(u.has_value());
  BOOST_TEST((*u)["data"].size() == 2u);
  BOOST_TEST(this->names(json{{"city", "Bergen"}}) == (names_t{"p1", "p3"}));
  auto d = this->db->remove("Person", json{{"age", 25}});
  BOOST_REQUIRE(d.has_value());
  BOOST_TEST((*d)["data"] == json::array({"p2", "p4"}));
  BOOST_TEST(this->names(json::object()).size() == 2u);
  BOOST_TEST((*this->db->remove("Person", json::object()))["data"].size() == 2u);  // {} means all
}

BOOST_FIXTURE_TEST_CASE_TEMPLATE(schemas_check_required_types_and_fill_defaults, B, backends, store_fixture<B>) {
  auto missing = this->db->create("Task", json{{"status", "open"}});
  BOOST_REQUIRE(!missing.has_value());
  BOOST_TEST(missing.error().code == "invalid_document");
  BOOST_TEST(missing.error().message.find("Task.title") != std::string::npos);
  auto wrong = this->db->create("Email", json{{"from", "a"}, {"subject", "s"}, {"unread", "yes"}});
  BOOST_REQUIRE(!wrong.has_value());
  BOOST_TEST(wrong.error().message.find("Email.unread: expected boolean, got string") != std::string::npos);
  auto ok = this->db->create("Task", json{{"title", "Review"}});
  BOOST_REQUIRE(ok.has_value());
  BOOST_TEST((*ok)["data"][0]["status"] == "open");  // default
  auto bad_update = this->db->update("Task", json::object(), json{{"title", 5}});
  BOOST_REQUIRE(!bad_update.has_value());
  BOOST_TEST(bad_update.error().message.find("Task.title") != std::string::npos);
  BOOST_TEST((*this->db->select("Task", json::object()))["data"][0]["title"] == "Review");  // unchanged
}

BOOST_FIXTURE_TEST_CASE_TEMPLATE(concurrent_writers_are_batched_with_exact_counts, B, backends, store_fixture<B>) {
  // Boost.Test's assertions are not thread-safe: the writers count their failures, the test checks them.
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < 100; ++t) {
    threads.emplace_back([this, t, &failed] {
      for (int i = 0; i < 5; ++i)
        if (!this->db->create("Counter", json{{"thread", t}, {"i", i}, {"done", false}})) ++failed;
      if (!this->db->update("Counter", json{{"thread", t}}, json{{"done", true}})) ++failed;
    });
  }
  for (auto& th : threads) th.join();
  BOOST_TEST(failed == 0);
  BOOST_TEST((*this->db->select("Counter", json::object()))["data"].size() == 500u);
  BOOST_TEST((*this->db->select("Counter", json{{"where", {{"done", true}}}}))["data"].size() == 500u);
  BOOST_TEST(this->db->writes() >= 600u);
  BOOST_TEST(this->db->commits() < this->db->writes());  // group commit: fewer transactions than writes
}

BOOST_FIXTURE_TEST_CASE_TEMPLATE(data_survives_reopening_the_store, B, backends, store_fixture<B>) {
  auto path = this->db->path();
  this->db.reset();
  auto again = document_store::open(path);
  BOOST_REQUIRE(again.has_value());
  BOOST_TEST((*(*again)->select("Person", json::object()))["data"].size() == 4u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(store_files)

BOOST_AUTO_TEST_CASE(missing_directory_is_a_clear_error) {
  auto s = document_store::open("/nonexistent-coworker/dir/x.db");
  BOOST_REQUIRE(!s.has_value());
  BOOST_TEST(s.error().code == "store_error");
  BOOST_TEST(s.error().message.find("/nonexistent-coworker/dir") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(corrupt_file_is_a_clear_error) {
  test::temp_dir tmp("corrupt");
  const fs::path dir = tmp.path;
  std::ofstream(dir / "bad.db") << std::string(4096, 'z');
  auto s = document_store::open((dir / "bad.db").string());
  BOOST_REQUIRE(!s.has_value());
  BOOST_TEST(s.error().code == "store_error");
  BOOST_TEST(s.error().message.find("bad.db") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(read_only_file_is_a_clear_error) {
  test::temp_dir tmp("ro");
  const fs::path dir = tmp.path;
  auto path = (dir / "ro.db").string();
  { BOOST_REQUIRE(document_store::open(path).has_value()); }
  fs::remove(dir / "ro.db-wal");
  fs::remove(dir / "ro.db-shm");
  chmod(path.c_str(), 0444);
  chmod(dir.c_str(), 0555);
  if (geteuid() == 0) {
    // root writes through file permissions: use a place no one can write instead (procfs).
    path = "/proc/self/coworker-ro.db";
  }
  auto s = document_store::open(path);
  BOOST_REQUIRE(!s.has_value());
  BOOST_TEST(s.error().code == "store_error");
  chmod(dir.c_str(), 0755);
}

BOOST_AUTO_TEST_SUITE_END()

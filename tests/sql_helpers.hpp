// Reading and changing a real store behind its back, as a user with sqlite3 (or psql, for a
// postgresql:// store: test::store_at) would.
#pragma once

#include <sqlite3.h>

#include <string>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "store/database.hpp"

namespace coworker::test {

/// Runs SQL on the file without the run store (what a user's sqlite3 would do).
inline void sql_exec(const std::string& path, const std::string& text) {
  if (store::sql::is_postgresql(path)) {
    auto db = store::sql::open(path, "the test");
    BOOST_REQUIRE_MESSAGE(db.has_value(), (db ? "" : db.error().message));
    auto r = (*db)->exec(text);
    BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
    return;
  }
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* msg = nullptr;
  int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &msg);
  std::string m = msg ? msg : "";
  sqlite3_free(msg);
  sqlite3_close(db);
  BOOST_REQUIRE_MESSAGE(rc == SQLITE_OK, m);
}

/// Rows of a one-or-two-column query, as text.
inline std::vector<std::pair<std::string, std::string>> sql_rows(const std::string& path, const std::string& text) {
  if (store::sql::is_postgresql(path)) {
    auto db = store::sql::open(path, "the test");
    BOOST_REQUIRE_MESSAGE(db.has_value(), (db ? "" : db.error().message));
    auto q = (*db)->prepare(text);
    BOOST_REQUIRE(q != nullptr);
    std::vector<std::pair<std::string, std::string>> out;
    store::sql::step rc;
    while ((rc = q->next()) == store::sql::step::row) out.emplace_back(q->text(0), q->columns() > 1 ? q->text(1) : "");
    BOOST_REQUIRE_MESSAGE(rc == store::sql::step::done, (*db)->error_message());
    return out;
  }
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  BOOST_REQUIRE_MESSAGE(sqlite3_prepare_v2(db, text.c_str(), -1, &q, nullptr) == SQLITE_OK, sqlite3_errmsg(db));
  std::vector<std::pair<std::string, std::string>> out;
  auto col = [&](int i) {
    auto* p = sqlite3_column_text(q, i);
    return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
  };
  while (sqlite3_step(q) == SQLITE_ROW) out.emplace_back(col(0), sqlite3_column_count(q) > 1 ? col(1) : "");
  sqlite3_finalize(q);
  sqlite3_close(db);
  return out;
}

}  // namespace coworker::test

// Reading and changing a real SQLite file behind the store's back, as a user with sqlite3 would.
#pragma once

#include <sqlite3.h>

#include <string>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

namespace coworker::test {

/// Runs SQL on the file without the run store (what a user's sqlite3 would do).
inline void sql_exec(const std::string& path, const std::string& text) {
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

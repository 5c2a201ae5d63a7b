// The few SQLite helpers the document store and the run store share: a prepared statement that
// finalizes itself, binds JSON values, and reads text columns; exec with a located error.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "coworker/error.hpp"
#include "coworker/json.hpp"

namespace coworker::store::sql {

struct statement {
  sqlite3_stmt* s = nullptr;
  int rc = SQLITE_OK;
  statement(sqlite3* db, const std::string& text) { rc = sqlite3_prepare_v2(db, text.c_str(), -1, &s, nullptr); }
  ~statement() { sqlite3_finalize(s); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  explicit operator bool() const { return s != nullptr; }

  void bind_text(int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind_int(int i, std::int64_t v) { sqlite3_bind_int64(s, i, v); }
  /// Binds a JSON value as SQLite sees json_extract's results: booleans as 1/0, structures as text.
  void bind(int i, const json& v) {
    if (v.is_null()) {
      sqlite3_bind_null(s, i);
    } else if (v.is_number_integer()) {
      bind_int(i, v.get<std::int64_t>());
    } else if (v.is_number()) {
      sqlite3_bind_double(s, i, v.get<double>());
    } else if (v.is_boolean()) {
      sqlite3_bind_int(s, i, v.get<bool>() ? 1 : 0);
    } else {
      bind_text(i, v.is_string() ? v.get_ref<const std::string&>() : dump(v));
    }
  }
  std::string column_text(int i) {
    auto* p = sqlite3_column_text(s, i);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
             : std::string();
  }
};

/// A connection of its own to an existing store file (WAL, a 5 s busy timeout, synchronous=FULL):
/// for a part of the store written outside the committer (kept signals, schedules). `what` names
/// the part in the error.
inline expected<sqlite3*> open_connection(const std::string& path, const std::string& what) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return make_error(codes::store_error, "store '" + path + "': cannot open it for " + what + ": " + m);
  }
  sqlite3_busy_timeout(db, 5000);
  char* msg = nullptr;
  if (sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : "unknown error";
    sqlite3_free(msg);
    sqlite3_close(db);
    return make_error(codes::store_error, "store '" + path + "': " + m);
  }
  return db;
}

/// Runs `text`; a store_error naming the file on failure.
inline expected<void> exec(sqlite3* db, const std::string& path, const char* text) {
  char* msg = nullptr;
  if (sqlite3_exec(db, text, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : "unknown error";
    sqlite3_free(msg);
    return make_error(codes::store_error, "store '" + path + "': " + m);
  }
  return {};
}

}  // namespace coworker::store::sql

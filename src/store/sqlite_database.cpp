// sqlite_database: store::sql::database over one sqlite3 connection (store/sqlite.hpp's helpers).
#include "store/sqlite_database.hpp"

#include <sqlite3.h>

#include "store/sqlite.hpp"

namespace coworker::store::sql {

namespace {

class sqlite_query final : public query {
 public:
  sqlite_query(sqlite3* db, std::string_view text) : s_(db, std::string(text)) {}
  bool ok() const { return static_cast<bool>(s_); }
  void bind_text(int i, std::string_view v) override {
    sqlite3_bind_text(s_.s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind_int(int i, std::int64_t v) override { sqlite3_bind_int64(s_.s, i, v); }
  void bind_double(int i, double v) override { sqlite3_bind_double(s_.s, i, v); }
  void bind_null(int i) override { sqlite3_bind_null(s_.s, i); }
  step next() override {
    switch (sqlite3_step(s_.s)) {
      case SQLITE_ROW: return step::row;
      case SQLITE_DONE: return step::done;
      default: return step::failed;
    }
  }
  std::string text(int col) override { return s_.column_text(col); }
  std::int64_t integer(int col) override { return sqlite3_column_int64(s_.s, col); }
  bool is_null(int col) override { return sqlite3_column_type(s_.s, col) == SQLITE_NULL; }
  int columns() override { return sqlite3_column_count(s_.s); }
  void reset() override { sqlite3_reset(s_.s); }

 private:
  statement s_;
};

class sqlite_database final : public database {
 public:
  sqlite_database(sqlite3* db, const std::string& path) : database(path), db_(db) {}
  ~sqlite_database() override { sqlite3_close_v2(db_); }
  sql::dialect dialect() const override { return sql::dialect::sqlite; }
  std::unique_ptr<query> prepare(std::string_view text) override {
    auto q = std::make_unique<sqlite_query>(db_, text);
    if (!q->ok()) return nullptr;
    return q;
  }
  expected<void> exec(std::string_view text) override { return sql::exec(db_, name(), std::string(text).c_str()); }
  expected<void> begin() override { return exec("BEGIN IMMEDIATE"); }
  std::string error_message() override { return sqlite3_errmsg(db_); }

 private:
  sqlite3* db_;
};

}  // namespace

expected<std::unique_ptr<database>> open_sqlite(const std::string& path, const std::string& what) {
  auto db = open_connection(path, what);
  if (!db) return db.error();
  return adopt_sqlite(*db, path);
}

std::unique_ptr<database> adopt_sqlite(sqlite3* db, const std::string& path) {
  return std::unique_ptr<database>(new sqlite_database(db, path));
}

}  // namespace coworker::store::sql

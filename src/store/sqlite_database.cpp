// sqlite_database: store::sql::database over one sqlite3 connection (store/sqlite.hpp's helpers).
#include "store/sqlite_database.hpp"

#include <sqlite3.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "store/sqlite.hpp"

namespace coworker::store::sql {

namespace {

/// Prepared statements kept by their text: a store prepares the same few statements for every
/// batch, and SQLite's prepare (parsing and planning) costs more than most of the rows they write.
/// A statement in use is taken out of the cache, so two queries of the same text never share one.
/// Shared by the database and its queries: a query may outlive its database (the connection, closed
/// with sqlite3_close_v2, waits for its last statement), and then finalizes its statement itself.
class statement_cache {
 public:
  explicit statement_cache(sqlite3* db) : db_(db) {}
  ~statement_cache() { close(); }
  /// The database is closing: kept statements are finalized, and statements given back later too.
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (auto& [text, s] : free_) sqlite3_finalize(s);
    free_.clear();
  }
  statement_cache(const statement_cache&) = delete;
  statement_cache& operator=(const statement_cache&) = delete;

  sqlite3_stmt* take(std::string_view text) {
    {
      std::lock_guard lock(mu_);
      if (auto it = free_.find(text); it != free_.end()) {
        auto* s = it->second;
        free_.erase(it);
        return s;
      }
    }
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, text.data(), static_cast<int>(text.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr) !=
        SQLITE_OK) {
      sqlite3_finalize(s);
      return nullptr;
    }
    return s;
  }
  /// Keeps `s` for its text; when the cache is full one kept statement makes room (the committer's
  /// come back every batch, so texts built once, like a history filter's, do not hold them out).
  void give_back(std::string text, sqlite3_stmt* s) {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    sqlite3_stmt* gone = nullptr;
    {
      std::lock_guard lock(mu_);
      if (closed_ || free_.count(text)) {
        gone = s;  // another query of the same text came back first
      } else {
        if (free_.size() >= max_kept) {
          gone = free_.begin()->second;
          free_.erase(free_.begin());
        }
        free_.emplace(std::move(text), s);
      }
    }
    sqlite3_finalize(gone);  // a no-op on null
  }

 private:
  static constexpr std::size_t max_kept = 64;
  sqlite3* db_;
  std::mutex mu_;
  bool closed_ = false;
  std::map<std::string, sqlite3_stmt*, std::less<>> free_;
};

class sqlite_query final : public query {
 public:
  sqlite_query(std::shared_ptr<statement_cache> cache, std::string_view text, sqlite3_stmt* s)
      : cache_(std::move(cache)), text_(text), s_(s) {}
  ~sqlite_query() override { cache_->give_back(std::move(text_), s_); }
  sqlite_query(const sqlite_query&) = delete;
  sqlite_query& operator=(const sqlite_query&) = delete;
  void bind_text(int i, std::string_view v) override {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind_kept_text(int i, std::string_view v) override {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void bind_int(int i, std::int64_t v) override { sqlite3_bind_int64(s_, i, v); }
  void bind_double(int i, double v) override { sqlite3_bind_double(s_, i, v); }
  void bind_null(int i) override { sqlite3_bind_null(s_, i); }
  step next() override {
    switch (sqlite3_step(s_)) {
      case SQLITE_ROW: return step::row;
      case SQLITE_DONE: return step::done;
      default: return step::failed;
    }
  }
  std::string text(int col) override {
    auto* p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::string();
  }
  std::int64_t integer(int col) override { return sqlite3_column_int64(s_, col); }
  bool is_null(int col) override { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  int columns() override { return sqlite3_column_count(s_); }
  void reset() override { sqlite3_reset(s_); }
  std::int64_t inserted_rowid() override { return sqlite3_last_insert_rowid(sqlite3_db_handle(s_)); }
  std::int64_t changes() override { return sqlite3_changes64(sqlite3_db_handle(s_)); }

 private:
  std::shared_ptr<statement_cache> cache_;
  std::string text_;  ///< what it was prepared from: its key in the cache
  sqlite3_stmt* s_;
};

class sqlite_database final : public database {
 public:
  sqlite_database(sqlite3* db, const std::string& path)
      : database(path), db_(db), statements_(std::make_shared<statement_cache>(db)) {}
  ~sqlite_database() override {
    statements_->close();  // a query still open finalizes its own statement; the connection waits for it
    sqlite3_close_v2(db_);
  }
  sql::dialect dialect() const override { return sql::dialect::sqlite; }
  std::unique_ptr<query> prepare(std::string_view text) override {
    auto* s = statements_->take(text);
    if (!s) return nullptr;
    return std::make_unique<sqlite_query>(statements_, text, s);
  }
  expected<void> exec(std::string_view text) override { return sql::exec(db_, name(), std::string(text).c_str()); }
  expected<void> begin() override { return exec("BEGIN IMMEDIATE"); }
  std::string error_message() override { return sqlite3_errmsg(db_); }

 private:
  sqlite3* db_;
  std::shared_ptr<statement_cache> statements_;
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

// definition_store: the `definitions` and `chain_aliases` tables (runs/run_schema.cpp).
#include "runs/definition_store.hpp"

#include <sqlite3.h>

#include "store/sqlite.hpp"

namespace coworker {

namespace sql = store::sql;

namespace {

error failure(sqlite3* db, const std::string& path, const char* what) {
  return make_error(codes::store_error, "store '" + path + "': cannot " + what + ": " + sqlite3_errmsg(db));
}

}  // namespace

expected<std::unique_ptr<definition_store>> definition_store::open(const std::string& path) {
  auto db = sql::open_connection(path, "definitions");
  if (!db) return db.error();
  return std::unique_ptr<definition_store>(new definition_store(*db, path));
}

definition_store::~definition_store() { sqlite3_close(db_); }

expected<std::vector<stored_definition>> definition_store::load() {
  std::lock_guard lock(mu_);
  sql::statement q(db_, "SELECT name, version, body FROM definitions ORDER BY rowid");
  std::vector<stored_definition> out;
  int rc = SQLITE_ERROR;
  while (q && (rc = sqlite3_step(q.s)) == SQLITE_ROW) {
    auto body = json::parse(q.column_text(2), nullptr, false);
    if (body.is_discarded()) continue;
    out.push_back({q.column_text(0), sqlite3_column_int(q.s, 1), std::move(body)});
  }
  if (rc != SQLITE_DONE) return failure(db_, path_, "read the published chains");
  return out;
}

expected<std::vector<stored_alias>> definition_store::aliases() {
  std::lock_guard lock(mu_);
  sql::statement q(db_, "SELECT name, alias, version FROM chain_aliases ORDER BY name, alias");
  std::vector<stored_alias> out;
  int rc = SQLITE_ERROR;
  while (q && (rc = sqlite3_step(q.s)) == SQLITE_ROW)
    out.push_back({q.column_text(0), q.column_text(1), sqlite3_column_int(q.s, 2)});
  if (rc != SQLITE_DONE) return failure(db_, path_, "read the chain aliases");
  return out;
}

expected<void> definition_store::put(const stored_definition& d) {
  std::lock_guard lock(mu_);
  sql::statement q(db_, "INSERT INTO definitions(name, version, body) VALUES(?1, ?2, ?3)");
  if (q) {
    q.bind_text(1, d.name);
    sqlite3_bind_int(q.s, 2, d.version);
    q.bind_text(3, dump(d.body));
  }
  if (!q || sqlite3_step(q.s) != SQLITE_DONE) return failure(db_, path_, "store a published chain");
  return {};
}

expected<void> definition_store::alias(const stored_alias& a) {
  std::lock_guard lock(mu_);
  sql::statement q(db_, "INSERT INTO chain_aliases(name, alias, version) VALUES(?1, ?2, ?3) "
                        "ON CONFLICT(name, alias) DO UPDATE SET version = ?3");
  if (q) {
    q.bind_text(1, a.name);
    q.bind_text(2, a.alias);
    sqlite3_bind_int(q.s, 3, a.version);
  }
  if (!q || sqlite3_step(q.s) != SQLITE_DONE) return failure(db_, path_, "store a chain alias");
  return {};
}

}  // namespace coworker

// postgresql_schema: the DDL of a PostgreSQL store. Texts are TEXT, times and counts BIGINT, row ids
// BIGSERIAL where SQLite uses its rowid (so "in the order written" reads ORDER BY that column).
#include "runs/postgresql_schema.hpp"

#include <string>

namespace coworker::runs {

namespace {

// Any fixed number: the advisory lock that serializes schema changes between nodes.
constexpr const char* schema_lock = "SELECT pg_advisory_xact_lock(7301145)";

constexpr const char* tables = R"sql(
CREATE TABLE IF NOT EXISTS coworker_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS signals (
  id BIGSERIAL PRIMARY KEY, key TEXT NOT NULL, payload TEXT NOT NULL, kept BIGINT NOT NULL, taken_by TEXT);
CREATE TABLE IF NOT EXISTS definitions (
  seq BIGSERIAL, name TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY(name, version));
CREATE TABLE IF NOT EXISTS chain_aliases (
  name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY(name, alias));
CREATE TABLE IF NOT EXISTS schedules (
  name TEXT PRIMARY KEY, definition TEXT NOT NULL, last_fire BIGINT NOT NULL DEFAULT 0, last_run TEXT);
)sql";

}  // namespace

expected<void> prepare_postgresql_tables(store::sql::database& db) {
  if (auto r = db.begin(); !r) return r;
  auto rollback = [&](error e) {
    (void)db.exec("ROLLBACK");
    return e;
  };
  if (auto r = db.exec(schema_lock); !r) return rollback(r.error());
  if (auto r = db.exec(tables); !r) return rollback(r.error());
  auto q = db.prepare("SELECT max(version) FROM coworker_schema");
  if (!q || q->next() != store::sql::step::row) return rollback(db.failure("read the schema's version"));
  const bool fresh = q->is_null(0);
  const auto version = q->integer(0);
  if (!fresh && version > postgresql_schema_version)
    return rollback(make_error(codes::store_error,
                               "store '" + db.name() + "': written by a newer coworker (schema " + std::to_string(version) +
                                   ", this one knows " + std::to_string(postgresql_schema_version) + ")"));
  if (fresh) {
    auto add = db.prepare("INSERT INTO coworker_schema(version) VALUES(?1)");
    if (!add) return rollback(db.failure("write the schema's version"));
    add->bind_int(1, postgresql_schema_version);
    if (!add->run()) return rollback(db.failure("write the schema's version"));
  }
  return db.exec("COMMIT");
}

}  // namespace coworker::runs

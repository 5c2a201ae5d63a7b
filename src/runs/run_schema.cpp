// run_schema: the tables of schema 5 (schema 2, the blob tables of 3, the kept signals and schedules of
// 4, the chains kept after their end and the published chains of 5) and the migrations from 1 to 4 (docs/store.md, "Run records").
#include "runs/run_schema.hpp"

#include <string_view>

#include "runs/run_writer.hpp"
#include "runs/value_refs.hpp"

namespace coworker::runs {

namespace sql = store::sql;

namespace {

constexpr const char* tables_sql = R"(
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, chain INTEGER, owner INTEGER, status TEXT NOT NULL, created INTEGER NOT NULL,
  input INTEGER, output INTEGER, fields TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS runs_chain ON runs(chain) WHERE chain IS NOT NULL;
CREATE INDEX IF NOT EXISTS runs_roots ON runs(id) WHERE owner IS NULL;
CREATE INDEX IF NOT EXISTS runs_roots_status ON runs(status, id) WHERE owner IS NULL;
CREATE TABLE IF NOT EXISTS run_values (id INTEGER PRIMARY KEY, chain INTEGER NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS run_values_chain ON run_values(chain);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY, epoch TEXT NOT NULL, time INTEGER NOT NULL, kind TEXT NOT NULL,
  run_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chains (
  root_id TEXT PRIMARY KEY, document TEXT NOT NULL, input TEXT, key TEXT, ended INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS run_keys (key TEXT PRIMARY KEY, root_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, bytes INTEGER NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run_blobs (chain INTEGER NOT NULL, blob TEXT NOT NULL, PRIMARY KEY(chain, blob)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS run_blobs_blob ON run_blobs(blob);
CREATE TABLE IF NOT EXISTS signals (
  id INTEGER PRIMARY KEY, key TEXT NOT NULL, payload TEXT NOT NULL, kept INTEGER NOT NULL, taken_by TEXT);
CREATE TABLE IF NOT EXISTS definitions (
  name TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY(name, version));
CREATE TABLE IF NOT EXISTS chain_aliases (
  name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY(name, alias));
CREATE TABLE IF NOT EXISTS schedules (
  name TEXT PRIMARY KEY, definition TEXT NOT NULL, last_fire INTEGER NOT NULL DEFAULT 0, last_run TEXT);
CREATE VIEW IF NOT EXISTS run_records AS
  SELECT r.id AS id, COALESCE(c.id, r.id) AS chain_id, r.status AS status,
         json_set(json_remove(json_patch('{"doctype":null,"stepId":null,"stepIndex":null,"started":null,"finished":null,' ||
                             '"error":null,"success":false,"recovered":false,"attempts":0,"parentRunId":null,' ||
                             '"childRunIds":[],"role":null,"keepAlive":false}', r.fields), '$.outputWith'),
                  '$.id', r.id, '$.chainId', COALESCE(c.id, r.id), '$.ownerRunId', o.id,
                  '$.status', r.status, '$.created', r.created,
                  '$.input', json(COALESCE(vi.text, 'null')), '$.output', CASE WHEN json_type(r.fields, '$.outputWith') IS NULL THEN json(COALESCE(vo.text, 'null'))
                             ELSE json_set(json_extract(r.fields, '$.outputWith'), '$.last', json(vo.text)) END) AS record
  FROM runs r LEFT JOIN runs c ON c.rowid = r.chain LEFT JOIN runs o ON o.rowid = r.owner
       LEFT JOIN run_values vi ON vi.id = r.input LEFT JOIN run_values vo ON vo.id = r.output;
)";

/// The chains in flight, found among the ended ones that stay (after `ended` exists: schema 5).
constexpr const char* chains_index_sql = "CREATE INDEX IF NOT EXISTS chains_open ON chains(root_id) WHERE ended=0";

int user_version(sql::database& db) {
  auto q = db.prepare("PRAGMA user_version");
  return q && q->next() == sql::step::row ? static_cast<int>(q->integer(0)) : -1;
}

bool has_column(sql::database& db, const char* table, std::string_view column) {
  auto q = db.prepare(std::string("PRAGMA table_info(") + table + ")");
  while (q && q->next() == sql::step::row)
    if (q->text(1) == column) return true;
  return false;
}

/// Schema 1 → 2 inside the caller's transaction: each record written as run_store::write writes it
/// (chain by chain, a chain's root first and owners before their runs, as the ids are ordered by time).
expected<void> migrate_from_1(sql::database& db, std::size_t& moved) {
  for (const char* s : {"DROP INDEX IF EXISTS runs_chain", "DROP INDEX IF EXISTS runs_roots",
                        "DROP INDEX IF EXISTS runs_roots_by_id", "ALTER TABLE runs RENAME TO runs_v1"})
    if (auto r = db.exec(s); !r) return r;
  if (auto r = db.exec(tables_sql); !r) return r;
  auto read = db.prepare("SELECT id, record FROM runs_v1 ORDER BY chain_id, id");
  value_refs refs;
  run_writer rows(db, refs);
  if (!read || !rows.ok()) return db.failure("prepare the migration of the run records");
  std::string chain;
  while (read->next() == sql::step::row) {
    auto id = read->text(0);
    auto j = json::parse(read->text(1), nullptr, false);
    auto rec = j.is_discarded() ? expected<run_record>(make_error(codes::store_error, "not JSON")) : run_record_from_json(j);
    if (!rec) return make_error(codes::store_error, "cannot migrate run " + id + " in '" + db.name() + "': " + rec.error().message);
    if (rec->chain_id != chain) {
      refs.forget(chain);
      chain = rec->chain_id;
    }
    if (!rows.write(*rec)) return db.failure("migrate run " + id);
    ++moved;
  }
  return db.exec("DROP TABLE runs_v1");
}

}  // namespace

expected<void> prepare_run_tables(sql::database& db, const std::function<void(const std::string&)>& note) {
  const auto& path = db.name();
  const int version = user_version(db);
  if (version > schema_version)
    return make_error(codes::store_error, "store '" + path + "' has schema " + std::to_string(version) +
                                              ", written by a newer coworker (this one reads up to " +
                                              std::to_string(schema_version) + ")");
  if (version == schema_version) {
    if (auto r = db.exec(tables_sql); !r) return r;
    return db.exec(chains_index_sql);
  }
  if (auto r = db.begin(); !r) return r;
  auto undo = [&](error e) -> expected<void> {
    (void)db.exec("ROLLBACK");
    return e;
  };
  const bool old = has_column(db, "runs", "record");
  std::size_t moved = 0;
  if (old) {
    if (note) note("store '" + path + "': migrating the run records to schema " + std::to_string(schema_version) + " (values once)");
    if (auto r = migrate_from_1(db, moved); !r) return undo(r.error());
  } else if (auto r = db.exec(tables_sql); !r) {
    return undo(r.error());
  }
  // Schema 5: an ended chain's row stays, marked (a redrive reads it again).
  if (!has_column(db, "chains", "ended"))
    if (auto r = db.exec("ALTER TABLE chains ADD COLUMN ended INTEGER NOT NULL DEFAULT 0"); !r) return undo(r.error());
  if (auto r = db.exec(chains_index_sql); !r) return undo(r.error());
  if (auto r = db.exec("PRAGMA user_version=" + std::to_string(schema_version)); !r) return undo(r.error());
  if (auto r = db.exec("COMMIT"); !r) return undo(r.error());
  if (old && note) note("store '" + path + "': migrated " + std::to_string(moved) + " run records");
  return {};
}

}  // namespace coworker::runs

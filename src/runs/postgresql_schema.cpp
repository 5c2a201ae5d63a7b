// postgresql_schema: the DDL of a PostgreSQL store. Texts are TEXT, times and counts BIGINT, row ids
// BIGSERIAL where SQLite uses its rowid: `runs.rowid` is a column named as SQLite's, so the run
// store's statements read the same on both; `definitions.seq` keeps publish order.
#include "runs/postgresql_schema.hpp"

#include <string>

namespace coworker::runs {

namespace {

// Any fixed number: the advisory lock that serializes schema changes between nodes.
constexpr const char* schema_lock = "SELECT pg_advisory_xact_lock(7301145)";

// Run ids compare as bytes (COLLATE "C"), as SQLite compares them: they are ordered by time, and
// retention and `list` rely on that order whatever the database's locale.
constexpr const char* tables = R"sql(
CREATE TABLE IF NOT EXISTS coworker_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  rowid BIGSERIAL UNIQUE, id TEXT COLLATE "C" PRIMARY KEY, chain BIGINT, owner BIGINT, status TEXT NOT NULL,
  created BIGINT NOT NULL, input BIGINT, output BIGINT, fields TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS runs_chain ON runs(chain) WHERE chain IS NOT NULL;
CREATE INDEX IF NOT EXISTS runs_roots ON runs(id) WHERE owner IS NULL;
CREATE INDEX IF NOT EXISTS runs_roots_status ON runs(status, id) WHERE owner IS NULL;
CREATE TABLE IF NOT EXISTS run_values (id BIGSERIAL PRIMARY KEY, chain BIGINT NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS run_values_chain ON run_values(chain);
-- Each engine (epoch) numbers its own events: several nodes write at once (docs/cluster.md).
CREATE TABLE IF NOT EXISTS events (
  seq BIGINT NOT NULL, epoch TEXT NOT NULL, time BIGINT NOT NULL, kind TEXT NOT NULL, run_id TEXT NOT NULL,
  PRIMARY KEY (epoch, seq));
CREATE TABLE IF NOT EXISTS chains (
  root_id TEXT COLLATE "C" PRIMARY KEY, document TEXT NOT NULL, input TEXT, key TEXT, ended INTEGER NOT NULL DEFAULT 0,
  partition INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS chains_open ON chains(root_id) WHERE ended=0;
-- Who owns each partition of the chains (docs/cluster.md, "Leases and fencing").
CREATE TABLE IF NOT EXISTS leases (
  partition INTEGER PRIMARY KEY, owner TEXT NOT NULL, node TEXT NOT NULL, epoch BIGINT NOT NULL,
  expires TIMESTAMPTZ NOT NULL, backend INTEGER, backend_start TIMESTAMPTZ);
-- Where each node can be reached, one row per start (docs/cluster.md, "Finding the nodes").
CREATE TABLE IF NOT EXISTS nodes (
  owner TEXT PRIMARY KEY, node TEXT NOT NULL, addresses TEXT NOT NULL, since TIMESTAMPTZ NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS run_keys (key TEXT PRIMARY KEY, root_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, bytes BIGINT NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run_blobs (chain BIGINT NOT NULL, blob TEXT NOT NULL, PRIMARY KEY(chain, blob));
CREATE INDEX IF NOT EXISTS run_blobs_blob ON run_blobs(blob);
CREATE TABLE IF NOT EXISTS signals (
  id BIGSERIAL PRIMARY KEY, key TEXT NOT NULL, payload TEXT NOT NULL, kept BIGINT NOT NULL, taken_by TEXT);
CREATE TABLE IF NOT EXISTS definitions (
  seq BIGSERIAL, name TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY(name, version));
CREATE TABLE IF NOT EXISTS chain_aliases (
  name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY(name, alias));
CREATE TABLE IF NOT EXISTS documents (
  doctype TEXT NOT NULL, name TEXT COLLATE "C" NOT NULL, data TEXT NOT NULL,
  created BIGINT NOT NULL, modified BIGINT NOT NULL, PRIMARY KEY (doctype, name));
CREATE INDEX IF NOT EXISTS documents_created ON documents(doctype, created);
CREATE TABLE IF NOT EXISTS schedules (
  name TEXT PRIMARY KEY, definition TEXT NOT NULL, last_fire BIGINT NOT NULL DEFAULT 0, last_run TEXT);
-- Whole records, as a user reads them with psql (the SQLite file's view of the same name).
CREATE OR REPLACE VIEW run_records AS
  SELECT r.id AS id, COALESCE(c.id, r.id) AS chain_id, r.status AS status,
         (jsonb_build_object('doctype', null, 'stepId', null, 'stepIndex', null, 'started', null, 'finished', null,
                             'error', null, 'success', false, 'recovered', false, 'attempts', 0, 'parentRunId', null,
                             'childRunIds', '[]'::jsonb, 'role', null, 'keepAlive', false)
          || (r.fields::jsonb - 'outputWith')
          || jsonb_build_object('id', r.id, 'chainId', COALESCE(c.id, r.id), 'ownerRunId', o.id, 'status', r.status,
                                'created', r.created, 'input', COALESCE(vi.text, 'null')::jsonb,
                                'output', CASE WHEN r.fields::jsonb ? 'outputWith'
                                               THEN (r.fields::jsonb -> 'outputWith') || jsonb_build_object('last', vo.text::jsonb)
                                               ELSE COALESCE(vo.text, 'null')::jsonb END))::text AS record
  FROM runs r LEFT JOIN runs c ON c.rowid = r.chain LEFT JOIN runs o ON o.rowid = r.owner
       LEFT JOIN run_values vi ON vi.id = r.input LEFT JOIN run_values vo ON vo.id = r.output;
)sql";

/// Schema 1 → 2: chains get their partition (0: the first node's), events are numbered per engine.
constexpr const char* from_1 = R"sql(
ALTER TABLE chains ADD COLUMN IF NOT EXISTS partition INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events DROP CONSTRAINT IF EXISTS events_pkey;
ALTER TABLE events ADD PRIMARY KEY (epoch, seq);
UPDATE coworker_schema SET version = 2;
)sql";

/// After the tables and any migration (the column exists then).
constexpr const char* indexes = "CREATE INDEX IF NOT EXISTS chains_open_partition ON chains(partition) WHERE ended=0";

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
  } else if (version == 1) {
    if (auto r = db.exec(from_1); !r) return rollback(r.error());
  }
  if (auto r = db.exec(indexes); !r) return rollback(r.error());
  return db.exec("COMMIT");
}

}  // namespace coworker::runs

// The tables of a PostgreSQL store (docs/store.md, "Two databases"): the same tables as a SQLite
// file's (runs/run_schema.cpp) in PostgreSQL's types, created on first use by whichever node comes
// first: run records, values, blobs, events and chains (run_store), kept signals, published chains and
// their aliases, schedules.
#pragma once

#include "coworker/error.hpp"
#include "store/database.hpp"

namespace coworker::runs {

/// The version `coworker_schema` holds once prepare_postgresql_tables ran.
inline constexpr int postgresql_schema_version = 2;  // 2: partitions and leases (docs/cluster.md)

/// Creates what is missing in one transaction, under an advisory lock (nodes starting together do
/// not race); a database of a newer version is refused.
expected<void> prepare_postgresql_tables(store::sql::database& db);

/// For a store opened on either database: the PostgreSQL tables are made on first use, a SQLite
/// file's by run_store::open.
inline expected<void> prepare_tables(store::sql::database& db) {
  if (db.dialect() == store::sql::dialect::postgresql) return prepare_postgresql_tables(db);
  return {};
}

}  // namespace coworker::runs

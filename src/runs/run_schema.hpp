// The run tables (docs/store.md, "Run records"): created on a new file, migrated on a file written by
// an earlier coworker. The schema's version is SQLite's `PRAGMA user_version`.
#pragma once

#include <functional>
#include <string>

#include "coworker/error.hpp"
#include "store/database.hpp"

namespace coworker::runs {

/// 1: whole records in `runs.record` (before 2026-12). 2: values once in `run_values`, records in columns and `fields`.
/// 3: blobs (2026-12). 4: kept signals and schedules (`signals`, `schedules`; 2026-12).
inline constexpr int schema_version = 5;

/// Creates the tables, or migrates schema 1 to 2 in one transaction (nothing changes when it fails).
/// `note` receives one line before a migration and one after it. A file of a newer schema is refused.
/// SQLite only (a PostgreSQL store's tables: runs/postgresql_schema.hpp).
expected<void> prepare_run_tables(store::sql::database& db, const std::function<void(const std::string&)>& note);

}  // namespace coworker::runs

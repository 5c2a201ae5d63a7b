// The SQLite side of store::sql::database (store/database.hpp): the connection the embedded default
// uses, on a file whose tables run_store::open made.
#pragma once

#include <memory>
#include <string>

#include "store/database.hpp"

struct sqlite3;

namespace coworker::store::sql {

/// An existing SQLite file in WAL mode with a 5 s busy timeout and synchronous=FULL.
expected<std::unique_ptr<database>> open_sqlite(const std::string& path, const std::string& what);

/// A connection the caller opened its own way (run_store: created, locked, WAL), closed with it.
std::unique_ptr<database> adopt_sqlite(sqlite3* db, const std::string& path);

}  // namespace coworker::store::sql

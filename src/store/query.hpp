// The query language of select/update/delete turned into SQL with bound parameters (never user
// text spliced into SQL): where with $eq $ne $gt $gte $lt $lte $in $like, dotted field names,
// fields, orderBy, limit, offset. For SQLite over json_extract, for PostgreSQL over jsonb
// (docs/store.md, "Queries").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/json.hpp"
#include "store/database.hpp"

namespace coworker::store {

struct sql_query {
  std::string where;          ///< SQL boolean expression over `documents` ("1=1" when empty)
  std::vector<json> binds;    ///< values for its ? placeholders, in order
  std::string order_by;       ///< SQL ORDER BY list (default: created, name)
  std::vector<json> order_binds;
  std::int64_t limit = -1;
  std::int64_t offset = 0;
  std::vector<std::string> fields;  ///< projection; empty: whole documents
};

/// `where` alone (update, delete). `at` names the input field for messages ("where").
expected<sql_query> build_where(const json& where, const std::string& at = "where",
                                sql::dialect d = sql::dialect::sqlite);
/// A whole select query `{where?, fields?, orderBy?, limit?, offset?}`.
expected<sql_query> build_select(const json& query, sql::dialect d = sql::dialect::sqlite);

/// Keeps only `fields` (dotted names allowed) of `doc`, plus its name.
json project(const json& doc, const std::vector<std::string>& fields);

}  // namespace coworker::store

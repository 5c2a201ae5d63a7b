// The PostgreSQL side of store::sql::database (store/database.hpp), through libpq: the store of a
// cluster (docs/cluster.md). Statements are sent with their parameters as text; their `?N` markers
// become `$N`.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "store/database.hpp"

namespace coworker::store::sql {

/// Connects to the server of `url` (a libpq connection URI); a store_error naming the URL (without
/// its password) and libpq's reason when it cannot.
expected<std::unique_ptr<database>> open_postgresql(const std::string& url, const std::string& what);

/// `url` without the password of its user part or of a `password=` parameter: how errors and logs
/// name a PostgreSQL store.
std::string url_without_password(std::string_view url);

}  // namespace coworker::store::sql

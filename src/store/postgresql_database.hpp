// The PostgreSQL side of store::sql::database (store/database.hpp), through libpq: the store of a
// cluster (docs/cluster.md). Statements are sent with their parameters as text; their `?N` markers
// become `$N`.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "store/database.hpp"

namespace coworker::store::sql {

/// Connects to the server of `url` (a libpq connection URI); a store_error naming the URL (without
/// its password) and libpq's reason when it cannot.
expected<std::unique_ptr<database>> open_postgresql(const std::string& url, const std::string& what);

/// A connection that LISTENs on a channel (PostgreSQL's LISTEN/NOTIFY): how the nodes of a cluster
/// reach each other (docs/cluster.md, "Any node answers"). Used from one thread.
class notification_listener {
 public:
  virtual ~notification_listener() = default;
  /// The payload of the next notification, waiting up to `ms` for one; nullopt when none came. A
  /// broken connection is opened again (and LISTENs again) at the next call: what was sent while it
  /// was down is not received.
  virtual std::optional<std::string> next(int ms) = 0;
};

/// Connects to `url` and LISTENs on `channel` (a plain identifier).
expected<std::unique_ptr<notification_listener>> listen_postgresql(const std::string& url, const std::string& channel);

/// `url` without the password of its user part or of a `password=` parameter: how errors and logs
/// name a PostgreSQL store.
std::string url_without_password(std::string_view url);

}  // namespace coworker::store::sql

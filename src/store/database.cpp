// database: what the SQLite and PostgreSQL connections share, and the choice between them.
#include "store/database.hpp"

#include "store/postgresql_database.hpp"
#include "store/sqlite_database.hpp"

namespace coworker::store::sql {

error database::failure(std::string_view what) {
  return make_error(codes::store_error, "store '" + name_ + "': cannot " + std::string(what) + ": " + error_message());
}

bool is_postgresql(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

error not_yet_on_postgresql(const std::string& url) {
  return make_error(codes::store_error, "store '" + url_without_password(url) +
                                            "': documents cannot be kept in PostgreSQL yet, only run records, "
                                            "published chains, signals and schedules (docs/store.md, \"Two databases\"); "
                                            "use a SQLite file");
}

expected<std::unique_ptr<database>> open(const std::string& location, const std::string& what) {
  if (is_postgresql(location)) return open_postgresql(location, what);
  return open_sqlite(location, what);
}

std::string postgresql_markers(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  char quote = 0;  // inside '…' or "…"
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '?' && i + 1 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '9') {
      out += '$';
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace coworker::store::sql

// database: what the SQLite and PostgreSQL connections share, and the choice between them.
#include "store/database.hpp"

#include "store/postgresql_database.hpp"
#include "store/sqlite_database.hpp"

namespace coworker::store::sql {

void bind(query& q, int i, const json& v) {
  if (v.is_null()) {
    q.bind_null(i);
  } else if (v.is_number_integer()) {
    q.bind_int(i, v.get<std::int64_t>());
  } else if (v.is_number()) {
    q.bind_double(i, v.get<double>());
  } else if (v.is_boolean()) {
    q.bind_int(i, v.get<bool>() ? 1 : 0);
  } else if (v.is_string()) {
    q.bind_text(i, v.get_ref<const std::string&>());
  } else {
    q.bind_text(i, dump(v));
  }
}

error database::failure(std::string_view what) {
  return make_error(codes::store_error, "store '" + name_ + "': cannot " + std::string(what) + ": " + error_message());
}

bool is_postgresql(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::string display_name(std::string_view location) {
  return is_postgresql(location) ? url_without_password(location) : std::string(location);
}

expected<std::unique_ptr<database>> open(const std::string& location, const std::string& what) {
  if (is_postgresql(location)) return open_postgresql(location, what);
  return open_sqlite(location, what);
}

std::string postgresql_markers(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  char quote = 0;  // inside '…' or "…"
  int bare = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '?' && i + 1 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '9') {
      out += '$';
      continue;
    } else if (c == '?') {  // a bare marker: the next number
      out += '$' + std::to_string(++bare);
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace coworker::store::sql

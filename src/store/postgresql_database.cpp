// postgresql_database: store::sql::database over one libpq connection. A statement's text (with `$N`
// markers) is prepared once per connection, on its first run, and run by name after that (parameters
// and results as text): the server parses and plans it once, not at every row (docs/store.md,
// "Throughput"). A step walks the rows of the result.
#include "store/postgresql_database.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <unordered_map>
#include <vector>

namespace coworker::store::sql {

namespace {

/// The statements a connection has prepared, by their text and number of parameters: at most
/// `capacity`, so that a daemon answering ever new document queries for months does not keep them all
/// (past it a statement runs unprepared; the committer's are among the first).
class statement_names {
 public:
  static constexpr std::size_t capacity = 256;
  /// The name of `text` prepared with `types`, preparing it when new; "" when the cache is full (run
  /// it unnamed); null when the server refused it (`error` says why).
  const char* name(PGconn* c, const std::string& text, const std::vector<Oid>& types, std::string& error) {
    auto key = std::to_string(types.size()) + ':' + text;
    if (auto it = names_.find(key); it != names_.end()) return it->second.c_str();
    if (names_.size() >= capacity) return "";
    auto name = "cw" + std::to_string(names_.size() + 1);
    PGresult* r = PQprepare(c, name.c_str(), text.c_str(), static_cast<int>(types.size()), types.data());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) error = PQresultErrorMessage(r);
    PQclear(r);
    if (!ok) return nullptr;
    return names_.emplace(std::move(key), std::move(name)).first->second.c_str();
  }

  /// A new session has none of them.
  void clear() { names_.clear(); }

 private:
  std::unordered_map<std::string, std::string> names_;
};

void trim(std::string& m) {
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
}

class postgresql_query final : public query {
 public:
  postgresql_query(PGconn* c, statement_names& names, std::string text, std::string* error)
      : c_(c), names_(names), text_(std::move(text)), error_(error) {}
  ~postgresql_query() override { PQclear(result_); }
  void bind_text(int i, std::string_view v) override { slot(i) = std::string(v); }
  void bind_int(int i, std::int64_t v) override { slot(i) = std::to_string(v); }
  void bind_double(int i, double v) override {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    slot(i) = buf;
  }
  void bind_null(int i) override { slot(i).reset(); }
  step next() override {
    if (!result_) {
      std::vector<const char*> values;
      values.reserve(params_.size());
      for (auto& p : params_) values.push_back(p ? p->c_str() : nullptr);
      // A parameter the statement does not name (list's optional filters) still needs a type: text.
      types_.assign(values.size(), 0);
      for (std::size_t i = 0; i < types_.size(); ++i)
        if (!names(i + 1)) types_[i] = text_oid;
      const char* name = names_.name(c_, text_, types_, *error_);
      if (!name) {
        trim(*error_);
        return step::failed;
      }
      result_ = *name ? PQexecPrepared(c_, name, static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0)
                      : PQexecParams(c_, text_.c_str(), static_cast<int>(values.size()), types_.data(), values.data(),
                                     nullptr, nullptr, 0);
      const auto status = PQresultStatus(result_);
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        *error_ = PQresultErrorMessage(result_);
        trim(*error_);
        return step::failed;
      }
      row_ = -1;
    }
    if (PQresultStatus(result_) != PGRES_TUPLES_OK) return step::done;
    return ++row_ < PQntuples(result_) ? step::row : step::done;
  }
  std::string text(int col) override {
    return std::string(PQgetvalue(result_, row_, col), static_cast<std::size_t>(PQgetlength(result_, row_, col)));
  }
  std::int64_t integer(int col) override { return std::strtoll(PQgetvalue(result_, row_, col), nullptr, 10); }
  bool is_null(int col) override { return PQgetisnull(result_, row_, col) != 0; }
  int columns() override { return result_ ? PQnfields(result_) : 0; }
  void reset() override {
    PQclear(result_);
    result_ = nullptr;
  }

 private:
  /// Whether the statement has `$n` (not as the start of `$n0`…).
  bool names(std::size_t n) const {
    const auto marker = "$" + std::to_string(n);
    for (auto at = text_.find(marker); at != std::string::npos; at = text_.find(marker, at + 1)) {
      const auto after = at + marker.size();
      if (after == text_.size() || text_[after] < '0' || text_[after] > '9') return true;
    }
    return false;
  }
  std::optional<std::string>& slot(int i) {
    if (static_cast<std::size_t>(i) > params_.size()) params_.resize(static_cast<std::size_t>(i));
    return params_[static_cast<std::size_t>(i - 1)];
  }
  PGconn* c_;
  statement_names& names_;
  std::string text_;
  std::string* error_;
  static constexpr Oid text_oid = 25;  // pg_type's `text`
  std::vector<std::optional<std::string>> params_;
  std::vector<Oid> types_;
  PGresult* result_ = nullptr;
  int row_ = -1;
};

class postgresql_database final : public database {
 public:
  postgresql_database(PGconn* c, std::string name) : database(std::move(name)), c_(c) {}
  ~postgresql_database() override { PQfinish(c_); }
  sql::dialect dialect() const override { return sql::dialect::postgresql; }
  std::unique_ptr<query> prepare(std::string_view text) override {
    if (!in_transaction_) reconnect();
    return std::make_unique<postgresql_query>(c_, names_, postgresql_markers(text), &error_);
  }
  expected<void> exec(std::string_view text) override {
    const bool ends = text == "COMMIT" || text == "ROLLBACK";
    if (!in_transaction_ && !ends) reconnect();
    if (ends) in_transaction_ = false;
    PGresult* r = PQexec(c_, std::string(text).c_str());
    const auto status = PQresultStatus(r);
    const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    if (!ok) error_ = PQresultErrorMessage(r);
    PQclear(r);
    if (!ok) return failure("run '" + std::string(text.substr(0, 40)) + "'");
    // Settings of the session are set again on a new one (reconnect).
    if (text.substr(0, 4) == "SET " && std::find(settings_.begin(), settings_.end(), text) == settings_.end())
      settings_.emplace_back(text);
    return {};
  }
  expected<void> begin() override {
    auto r = exec("BEGIN");
    in_transaction_ = r.has_value();
    return r;
  }
  std::string error_message() override {
    std::string m = error_.empty() ? PQerrorMessage(c_) : error_;
    error_.clear();
    trim(m);
    return m;
  }

 private:
  /// A connection the server closed (it restarted, the network dropped) is opened again between
  /// transactions, never inside one: what a transaction wrote before the break is rolled back by the
  /// server, and its writer starts it again (docs/store.md, "When the server goes away").
  void reconnect() {
    if (PQstatus(c_) != CONNECTION_BAD) return;
    PQreset(c_);
    if (PQstatus(c_) != CONNECTION_OK) return;  // the statement fails and says why
    names_.clear();
    for (const auto& s : settings_) {
      PGresult* r = PQexec(c_, s.c_str());
      PQclear(r);
    }
  }
  PGconn* c_;
  statement_names names_;
  std::vector<std::string> settings_;  // SET statements run on this session
  bool in_transaction_ = false;        // between begin() and COMMIT or ROLLBACK
  std::string error_;  // the last failed statement's message (libpq keeps it in its result)
};

class postgresql_listener final : public notification_listener {
 public:
  postgresql_listener(PGconn* c, std::string channel) : c_(c), channel_(std::move(channel)) {}
  ~postgresql_listener() override { PQfinish(c_); }
  std::optional<std::string> next(int ms) override {
    if (auto n = take()) return n;
    if (PQstatus(c_) == CONNECTION_BAD) {
      PQreset(c_);
      if (PQstatus(c_) != CONNECTION_OK || !listen()) {
        ::poll(nullptr, 0, ms);  // the server is away: try again at the next call
        return std::nullopt;
      }
    }
    pollfd p{PQsocket(c_), POLLIN, 0};
    if (::poll(&p, 1, ms) > 0) PQconsumeInput(c_);
    return take();
  }
  bool listen() {
    PGresult* r = PQexec(c_, ("LISTEN " + channel_).c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok;
  }

 private:
  std::optional<std::string> take() {
    PGnotify* n = PQnotifies(c_);
    if (!n) return std::nullopt;
    std::string payload = n->extra ? n->extra : "";
    PQfreemem(n);
    return payload;
  }
  PGconn* c_;
  std::string channel_;
};

/// Connects with TCP keepalives and a bound on unacknowledged data (keepalives every 2 s after 5 s
/// idle, 3 missed; tcp_user_timeout 10 s; connect_timeout 10 s): a server cut off by the network is
/// noticed in seconds rather than hours, and no call waits on it for ever. The URL's own settings
/// win (libpq reads it after these).
PGconn* connect_to(const std::string& url) {
  const char* keys[] = {"keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
                        "tcp_user_timeout", "connect_timeout", "dbname", nullptr};
  const char* values[] = {"1", "5", "2", "3", "10000", "10", url.c_str(), nullptr};
  return PQconnectdbParams(keys, values, 1);
}

}  // namespace

expected<std::unique_ptr<notification_listener>> listen_postgresql(const std::string& url, const std::string& channel) {
  PGconn* c = connect_to(url);
  if (!c || PQstatus(c) != CONNECTION_OK) {
    std::string m = c ? PQerrorMessage(c) : "out of memory";
    trim(m);
    PQfinish(c);
    return make_error(codes::store_error, "store '" + url_without_password(url) + "': cannot connect to listen: " + m);
  }
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  auto l = std::make_unique<postgresql_listener>(c, channel);
  if (!l->listen())
    return make_error(codes::store_error, "store '" + url_without_password(url) + "': cannot LISTEN on " + channel);
  return std::unique_ptr<notification_listener>(std::move(l));
}

std::string url_without_password(std::string_view url) {
  std::string out(url);
  // postgresql://user:secret@host → postgresql://user@host
  if (auto scheme = out.find("://"); scheme != std::string::npos) {
    const auto start = scheme + 3;
    const auto at = out.find('@', start);
    const auto slash = out.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      if (auto colon = out.find(':', start); colon != std::string::npos && colon < at) out.erase(colon, at - colon);
    }
  }
  // …?password=secret&… → …?password=***&…
  for (auto p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    const auto value = p + 9;
    const auto end = out.find('&', value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

expected<std::unique_ptr<database>> open_postgresql(const std::string& url, const std::string& what) {
  const auto name = url_without_password(url);
  PGconn* c = connect_to(url);
  if (!c || PQstatus(c) != CONNECTION_OK) {
    std::string m = c ? PQerrorMessage(c) : "out of memory";
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    PQfinish(c);
    return make_error(codes::store_error, "store '" + name + "': cannot connect for " + what + ": " + m);
  }
  // CREATE … IF NOT EXISTS and the like send notices; libpq would print them on stderr.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<database>(new postgresql_database(c, name));
}

}  // namespace coworker::store::sql

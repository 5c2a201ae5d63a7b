// signal_store: the `signals` table (runs/run_schema.cpp) behind the signal board.
#include "runs/signal_store.hpp"

#include <sqlite3.h>

#include "store/sqlite.hpp"

namespace coworker {

namespace sql = store::sql;

expected<std::unique_ptr<signal_store>> signal_store::open(const std::string& path) {
  auto db = sql::open_connection(path, "signals");
  if (!db) return db.error();
  return std::unique_ptr<signal_store>(new signal_store(*db, path));
}

signal_store::~signal_store() { sqlite3_close(db_); }

error signal_store::failure(const std::string& what) const {
  return make_error(codes::store_error, "store '" + path_ + "': " + what + ": " + sqlite3_errmsg(db_));
}

expected<std::vector<kept_signal>> signal_store::load() {
  std::lock_guard lock(mu_);
  sql::statement q(db_, "SELECT id, key, payload, kept, taken_by FROM signals ORDER BY id");
  if (!q) return failure("cannot read the kept signals");
  std::vector<kept_signal> out;
  int rc;
  while ((rc = sqlite3_step(q.s)) == SQLITE_ROW) {
    kept_signal s;
    s.id = static_cast<std::uint64_t>(sqlite3_column_int64(q.s, 0));
    s.key = q.column_text(1);
    auto payload = json::parse(q.column_text(2), nullptr, false);
    if (payload.is_discarded()) continue;  // not written by us: nothing to deliver
    s.payload = share(std::move(payload));
    s.kept_at = sqlite3_column_int64(q.s, 3);
    s.taken_by = q.column_text(4);
    out.push_back(std::move(s));
  }
  if (rc != SQLITE_DONE) return failure("cannot read the kept signals");
  return out;
}

expected<std::uint64_t> signal_store::keep(const std::string& key, const json& payload, std::int64_t at) {
  std::lock_guard lock(mu_);
  sql::statement q(db_, "INSERT INTO signals(key, payload, kept) VALUES(?1, ?2, ?3)");
  if (!q) return failure("cannot store a signal");
  q.bind_text(1, key);
  q.bind_text(2, dump(payload));
  q.bind_int(3, at);
  if (sqlite3_step(q.s) != SQLITE_DONE) return failure("cannot store a signal");
  return static_cast<std::uint64_t>(sqlite3_last_insert_rowid(db_));
}

expected<void> signal_store::take(std::uint64_t id, const std::string& run_id) {
  std::lock_guard lock(mu_);
  sql::statement q(db_, "UPDATE signals SET taken_by = ?1 WHERE id = ?2");
  if (!q) return failure("cannot store the taking of a signal");
  q.bind_text(1, run_id);
  q.bind_int(2, static_cast<std::int64_t>(id));
  if (sqlite3_step(q.s) != SQLITE_DONE) return failure("cannot store the taking of a signal");
  return {};
}

expected<void> signal_store::drop(const std::vector<std::uint64_t>& ids) {
  std::lock_guard lock(mu_);
  if (auto r = sql::exec(db_, path_, "BEGIN IMMEDIATE"); !r) return r;
  sql::statement q(db_, "DELETE FROM signals WHERE id = ?1");
  bool ok = static_cast<bool>(q);
  for (auto id : ids) {
    if (!ok) break;
    q.bind_int(1, static_cast<std::int64_t>(id));
    ok = sqlite3_step(q.s) == SQLITE_DONE;
    sqlite3_reset(q.s);
  }
  if (!ok) {
    auto e = failure("cannot delete signals");
    (void)sql::exec(db_, path_, "ROLLBACK");
    return e;
  }
  return sql::exec(db_, path_, "COMMIT");
}

}  // namespace coworker

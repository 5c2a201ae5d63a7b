// schedule_store: the `schedules` table (runs/run_schema.cpp).
#include "runs/schedule_store.hpp"

#include <sqlite3.h>

#include "store/sqlite.hpp"

namespace coworker {

namespace sql = store::sql;

expected<std::unique_ptr<schedule_store>> schedule_store::open(const std::string& path) {
  auto db = sql::open_connection(path, "schedules");
  if (!db) return db.error();
  return std::unique_ptr<schedule_store>(new schedule_store(*db, path));
}

schedule_store::~schedule_store() { sqlite3_close(db_); }

expected<void> schedule_store::run(const char* text, const std::function<void(sqlite3_stmt*)>& bind, const char* what) {
  std::lock_guard lock(mu_);
  sql::statement q(db_, text);
  if (q) bind(q.s);
  if (!q || sqlite3_step(q.s) != SQLITE_DONE)
    return make_error(codes::store_error, "store '" + path_ + "': cannot " + what + ": " + sqlite3_errmsg(db_));
  return {};
}

expected<std::vector<stored_schedule>> schedule_store::load() {
  std::lock_guard lock(mu_);
  sql::statement q(db_, "SELECT definition, last_fire, last_run FROM schedules ORDER BY name");
  std::vector<stored_schedule> out;
  int rc = SQLITE_ERROR;
  while (q && (rc = sqlite3_step(q.s)) == SQLITE_ROW) {
    auto def = json::parse(q.column_text(0), nullptr, false);
    if (def.is_discarded()) continue;
    out.push_back({std::move(def), sqlite3_column_int64(q.s, 1), q.column_text(2)});
  }
  if (rc != SQLITE_DONE)
    return make_error(codes::store_error, "store '" + path_ + "': cannot read the schedules: " + sqlite3_errmsg(db_));
  return out;
}

expected<void> schedule_store::put(const std::string& name, const json& definition) {
  const auto text = dump(definition);
  return run("INSERT INTO schedules(name, definition) VALUES(?1, ?2) ON CONFLICT(name) DO UPDATE SET definition = ?2",
             [&](sqlite3_stmt* s) {
               sqlite3_bind_text(s, 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
               sqlite3_bind_text(s, 2, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
             },
             "store a schedule");
}

expected<void> schedule_store::fired(const std::string& name, std::int64_t time, const std::string& run_id) {
  return run("UPDATE schedules SET last_fire = ?2, last_run = ?3 WHERE name = ?1",
             [&](sqlite3_stmt* s) {
               sqlite3_bind_text(s, 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
               sqlite3_bind_int64(s, 2, time);
               sqlite3_bind_text(s, 3, run_id.data(), static_cast<int>(run_id.size()), SQLITE_TRANSIENT);
             },
             "store a schedule's fire");
}

expected<void> schedule_store::remove(const std::string& name) {
  return run("DELETE FROM schedules WHERE name = ?1",
             [&](sqlite3_stmt* s) { sqlite3_bind_text(s, 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT); },
             "delete a schedule");
}

}  // namespace coworker

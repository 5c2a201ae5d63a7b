// schedule_store: the `schedules` table (runs/run_schema.cpp, runs/postgresql_schema.cpp).
#include "runs/schedule_store.hpp"

#include "runs/postgresql_schema.hpp"
#include "store/database.hpp"

namespace coworker {

namespace sql = store::sql;

expected<std::unique_ptr<schedule_store>> schedule_store::open(const std::string& location) {
  auto db = sql::open(location, "schedules");
  if (!db) return db.error();
  if (auto r = runs::prepare_tables(**db); !r) return r.error();
  return std::unique_ptr<schedule_store>(new schedule_store(std::move(*db)));
}

schedule_store::schedule_store(std::unique_ptr<sql::database> db) : db_(std::move(db)) {}
schedule_store::~schedule_store() = default;

expected<void> schedule_store::run(const char* text, const std::function<void(sql::query&)>& bind, const char* what) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(text);
  if (q) bind(*q);
  if (!q || !q->run()) return db_->failure(what);
  return {};
}

expected<std::vector<stored_schedule>> schedule_store::load() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT definition, last_fire, last_run FROM schedules ORDER BY name");
  std::vector<stored_schedule> out;
  auto rc = sql::step::failed;
  while (q && (rc = q->next()) == sql::step::row) {
    auto def = json::parse(q->text(0), nullptr, false);
    if (def.is_discarded()) continue;
    out.push_back({std::move(def), q->integer(1), q->text(2)});
  }
  if (rc != sql::step::done) return db_->failure("read the schedules");
  return out;
}

expected<void> schedule_store::put(const std::string& name, const json& definition) {
  const auto text = dump(definition);
  return run("INSERT INTO schedules(name, definition) VALUES(?1, ?2) ON CONFLICT(name) DO UPDATE SET definition = ?2",
             [&](sql::query& q) {
               q.bind_text(1, name);
               q.bind_text(2, text);
             },
             "store a schedule");
}

expected<void> schedule_store::fired(const std::string& name, std::int64_t time, const std::string& run_id) {
  return run("UPDATE schedules SET last_fire = ?2, last_run = ?3 WHERE name = ?1",
             [&](sql::query& q) {
               q.bind_text(1, name);
               q.bind_int(2, time);
               q.bind_text(3, run_id);
             },
             "store a schedule's fire");
}

expected<bool> schedule_store::claim(const std::string& name, const json& definition, std::int64_t time) {
  const auto text = dump(definition);
  std::lock_guard lock(mu_);
  auto q = db_->prepare("UPDATE schedules SET last_fire = ?3 WHERE name = ?1 AND definition = ?2 AND last_fire < ?3 "
                        "RETURNING name");
  if (!q) return db_->failure("claim a schedule's fire");
  q->bind_text(1, name);
  q->bind_text(2, text);
  q->bind_int(3, time);
  const auto s = q->next();
  if (s == sql::step::failed) return db_->failure("claim a schedule's fire");
  return s == sql::step::row;
}

expected<void> schedule_store::remove(const std::string& name) {
  return run("DELETE FROM schedules WHERE name = ?1", [&](sql::query& q) { q.bind_text(1, name); },
             "delete a schedule");
}

}  // namespace coworker

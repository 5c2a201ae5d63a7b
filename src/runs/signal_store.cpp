// signal_store: the `signals` table (runs/run_schema.cpp, runs/postgresql_schema.cpp) behind the
// signal board.
#include "runs/signal_store.hpp"

#include "runs/postgresql_schema.hpp"
#include "store/database.hpp"

namespace coworker {

namespace sql = store::sql;

expected<std::unique_ptr<signal_store>> signal_store::open(const std::string& location) {
  auto db = sql::open(location, "signals");
  if (!db) return db.error();
  if (auto r = runs::prepare_tables(**db); !r) return r.error();
  return std::unique_ptr<signal_store>(new signal_store(std::move(*db)));
}

signal_store::signal_store(std::unique_ptr<sql::database> db) : db_(std::move(db)) {}
signal_store::~signal_store() = default;

expected<std::vector<kept_signal>> signal_store::load() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT id, key, payload, kept, taken_by FROM signals ORDER BY id");
  if (!q) return db_->failure("read the kept signals");
  std::vector<kept_signal> out;
  sql::step rc;
  while ((rc = q->next()) == sql::step::row) {
    kept_signal s;
    s.id = static_cast<std::uint64_t>(q->integer(0));
    s.key = q->text(1);
    auto payload = json::parse(q->text(2), nullptr, false);
    if (payload.is_discarded()) continue;  // not written by us: nothing to deliver
    s.payload = share(std::move(payload));
    s.kept_at = q->integer(3);
    s.taken_by = q->text(4);
    out.push_back(std::move(s));
  }
  if (rc != sql::step::done) return db_->failure("read the kept signals");
  return out;
}

expected<std::uint64_t> signal_store::keep(const std::string& key, const json& payload, std::int64_t at) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("INSERT INTO signals(key, payload, kept) VALUES(?1, ?2, ?3) RETURNING id");
  if (!q) return db_->failure("store a signal");
  q->bind_text(1, key);
  q->bind_text(2, dump(payload));
  q->bind_int(3, at);
  if (q->next() != sql::step::row) return db_->failure("store a signal");
  const auto id = static_cast<std::uint64_t>(q->integer(0));
  if (q->next() != sql::step::done) return db_->failure("store a signal");
  return id;
}

expected<bool> signal_store::take(std::uint64_t id, const std::string& run_id) {
  std::lock_guard lock(mu_);
  // A claim: one await takes a kept signal, whichever node it runs on (the same run again, resumed
  // after a restart, takes it again).
  auto q = db_->prepare("UPDATE signals SET taken_by = ?1 WHERE id = ?2 AND (taken_by IS NULL OR taken_by = ?1) "
                        "RETURNING id");
  if (!q) return db_->failure("store the taking of a signal");
  q->bind_text(1, run_id);
  q->bind_int(2, static_cast<std::int64_t>(id));
  const auto s = q->next();
  if (s == sql::step::failed) return db_->failure("store the taking of a signal");
  const bool won = s == sql::step::row;
  if (won && q->next() == sql::step::failed) return db_->failure("store the taking of a signal");
  return won;
}

expected<std::optional<kept_signal>> signal_store::kept(std::uint64_t id) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT key, payload, kept FROM signals WHERE id = ?1 AND taken_by IS NULL");
  if (!q) return db_->failure("read a kept signal");
  q->bind_int(1, static_cast<std::int64_t>(id));
  const auto s = q->next();
  if (s == sql::step::failed) return db_->failure("read a kept signal");
  if (s == sql::step::done) return std::optional<kept_signal>();
  auto payload = json::parse(q->text(1), nullptr, false);
  if (payload.is_discarded()) return std::optional<kept_signal>();
  return std::optional<kept_signal>(kept_signal{id, q->text(0), share(std::move(payload)), q->integer(2), {}});
}

expected<void> signal_store::drop(const std::vector<std::uint64_t>& ids) {
  std::lock_guard lock(mu_);
  if (auto r = db_->begin(); !r) return r;
  auto q = db_->prepare("DELETE FROM signals WHERE id = ?1");
  bool ok = static_cast<bool>(q);
  for (auto id : ids) {
    if (!ok) break;
    q->bind_int(1, static_cast<std::int64_t>(id));
    ok = q->run();
    q->reset();
  }
  if (!ok) {
    auto e = db_->failure("delete signals");
    (void)db_->exec("ROLLBACK");
    return e;
  }
  return db_->exec("COMMIT");
}

}  // namespace coworker

// definition_store: the `definitions` and `chain_aliases` tables (runs/run_schema.cpp,
// runs/postgresql_schema.cpp).
#include "runs/definition_store.hpp"

#include "runs/postgresql_schema.hpp"
#include "store/database.hpp"

namespace coworker {

namespace sql = store::sql;

expected<std::unique_ptr<definition_store>> definition_store::open(const std::string& location) {
  auto db = sql::open(location, "definitions");
  if (!db) return db.error();
  if (auto r = runs::prepare_tables(**db); !r) return r.error();
  return std::unique_ptr<definition_store>(new definition_store(std::move(*db)));
}

definition_store::definition_store(std::unique_ptr<sql::database> db) : db_(std::move(db)) {}
definition_store::~definition_store() = default;

expected<std::vector<stored_definition>> definition_store::load() {
  std::lock_guard lock(mu_);
  // In the order published: SQLite's rowid, PostgreSQL's seq column.
  auto q = db_->prepare(db_->dialect() == sql::dialect::sqlite
                            ? "SELECT name, version, body FROM definitions ORDER BY rowid"
                            : "SELECT name, version, body FROM definitions ORDER BY seq");
  std::vector<stored_definition> out;
  auto rc = sql::step::failed;
  while (q && (rc = q->next()) == sql::step::row) {
    auto body = json::parse(q->text(2), nullptr, false);
    if (body.is_discarded()) continue;
    out.push_back({q->text(0), static_cast<int>(q->integer(1)), std::move(body)});
  }
  if (rc != sql::step::done) return db_->failure("read the published chains");
  return out;
}

expected<std::vector<stored_alias>> definition_store::aliases() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT name, alias, version FROM chain_aliases ORDER BY name, alias");
  std::vector<stored_alias> out;
  auto rc = sql::step::failed;
  while (q && (rc = q->next()) == sql::step::row)
    out.push_back({q->text(0), q->text(1), static_cast<int>(q->integer(2))});
  if (rc != sql::step::done) return db_->failure("read the chain aliases");
  return out;
}

expected<void> definition_store::put(const stored_definition& d) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("INSERT INTO definitions(name, version, body) VALUES(?1, ?2, ?3)");
  if (q) {
    q->bind_text(1, d.name);
    q->bind_int(2, d.version);
    q->bind_text(3, dump(d.body));
  }
  if (!q || !q->run()) return db_->failure("store a published chain");
  return {};
}

expected<void> definition_store::alias(const stored_alias& a) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("INSERT INTO chain_aliases(name, alias, version) VALUES(?1, ?2, ?3) "
                        "ON CONFLICT(name, alias) DO UPDATE SET version = ?3");
  if (q) {
    q->bind_text(1, a.name);
    q->bind_text(2, a.alias);
    q->bind_int(3, a.version);
  }
  if (!q || !q->run()) return db_->failure("store a chain alias");
  return {};
}

}  // namespace coworker

// document_store: the `documents` table (SQLite or PostgreSQL), the group-committing writer thread,
// and the four operations.
#include "store/document_store.hpp"

#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "coworker/run_record.hpp"
#include "store/query.hpp"
#include "runs/postgresql_schema.hpp"
#include "store/database.hpp"
#include "store/sqlite_database.hpp"
#include "core/thread_name.hpp"

namespace coworker::store {

namespace {

constexpr const char* schema_sql = R"(
CREATE TABLE IF NOT EXISTS documents (
  doctype TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL,
  created INTEGER NOT NULL, modified INTEGER NOT NULL, PRIMARY KEY (doctype, name));
CREATE INDEX IF NOT EXISTS documents_created ON documents(doctype, created);
)";

std::string new_name(const std::string& doctype) {
  // Lower-case doctype, a dash, then the time-ordered part of a run id: unique and sortable.
  std::string prefix;
  for (char c : doctype) prefix += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return prefix + "-" + new_run_id().substr(4);
}

/// Reads matching documents (with their name/created/modified) from `db`.
expected<std::vector<json>> fetch(sql::database& db, const std::string& doctype, const sql_query& q, bool paged) {
  std::string text = "SELECT data, name, created, modified FROM documents WHERE doctype = ? AND (" + q.where + ")";
  if (paged) text += " ORDER BY " + q.order_by + " LIMIT ? OFFSET ?";
  auto st = db.prepare(text);
  if (!st) return db.failure("query " + doctype);
  int i = 1;
  st->bind_text(i++, doctype);
  for (const auto& b : q.binds) sql::bind(*st, i++, b);
  if (paged) {
    for (const auto& b : q.order_binds) sql::bind(*st, i++, b);
    if (q.limit < 0 && db.dialect() == sql::dialect::postgresql) {
      st->bind_null(i++);  // LIMIT NULL: no limit (SQLite's is -1)
    } else {
      st->bind_int(i++, q.limit);
    }
    st->bind_int(i++, q.offset);
  }
  std::vector<json> out;
  sql::step rc;
  while ((rc = st->next()) == sql::step::row) {
    auto doc = json::parse(st->text(0), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) continue;
    doc["name"] = st->text(1);
    doc["created"] = st->integer(2);
    doc["modified"] = st->integer(3);
    out.push_back(std::move(doc));
  }
  if (rc != sql::step::done) return db.failure("read " + doctype);
  return out;
}

/// The document's own fields, without what the store adds.
json body_of(json doc) {
  doc.erase("name");
  doc.erase("created");
  doc.erase("modified");
  return doc;
}

}  // namespace

std::string default_db_path() {
  namespace fs = std::filesystem;
  fs::path dir;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) {
    dir = fs::path(x) / "coworker";
  } else if (const char* h = std::getenv("HOME"); h && *h) {
    dir = fs::path(h) / ".local" / "share" / "coworker";
  } else {
    return "coworker.db";
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  return (dir / "coworker.db").string();
}

document_store::document_store(std::unique_ptr<sql::database> writer, std::unique_ptr<sql::database> reader,
                               schema_registry schemas)
    : writer_(std::move(writer)), reader_(std::move(reader)), schemas_(std::move(schemas)) {
  thread_ = std::thread([this] {
    name_thread("cw-documents");
    writer_loop();
  });
}

document_store::~document_store() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

namespace {

/// The writer's and the reader's connections to a SQLite file (created when missing, WAL).
expected<std::pair<std::unique_ptr<sql::database>, std::unique_ptr<sql::database>>> open_sqlite(const std::string& path) {
  namespace fs = std::filesystem;
  auto dir = fs::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::is_directory(dir, ec))
    return make_error(codes::store_error, "cannot open store '" + path + "': directory '" + dir.string() + "' does not exist");
  auto open_one = [&]() -> expected<sqlite3*> {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      auto e = make_error(codes::store_error, "cannot open store '" + path + "': " + sqlite3_errmsg(db));
      sqlite3_close_v2(db);
      return e;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
  };
  auto w = open_one();
  if (!w) return w.error();
  const bool read_only = sqlite3_db_readonly(*w, "main") == 1;
  auto writer = sql::adopt_sqlite(*w, path);
  for (const char* setup : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", schema_sql})
    if (auto e = writer->exec(setup); !e) return e.error();
  if (read_only) return make_error(codes::store_error, "store '" + path + "' is read-only");
  auto r = open_one();
  if (!r) return r.error();
  return std::pair{std::move(writer), sql::adopt_sqlite(*r, path)};
}

/// The writer's and the reader's connections to a PostgreSQL database (its tables made when missing).
expected<std::pair<std::unique_ptr<sql::database>, std::unique_ptr<sql::database>>> open_postgresql(const std::string& url) {
  auto writer = sql::open(url, "documents");
  if (!writer) return writer.error();
  if (auto r = runs::prepare_postgresql_tables(**writer); !r) return r.error();
  auto reader = sql::open(url, "documents");
  if (!reader) return reader.error();
  return std::pair{std::move(*writer), std::move(*reader)};
}

}  // namespace

expected<std::shared_ptr<document_store>> document_store::open(const std::string& location, schema_registry schemas) {
  auto opened = sql::is_postgresql(location) ? open_postgresql(location) : open_sqlite(location);
  if (!opened) return opened.error();
  return std::shared_ptr<document_store>(
      new document_store(std::move(opened->first), std::move(opened->second), std::move(schemas)));
}

std::uint64_t document_store::commits() const {
  std::lock_guard lock(mu_);
  return commits_;
}

std::uint64_t document_store::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

expected<json> document_store::write(write_fn fn) {
  job j{std::move(fn), {}};
  auto fut = j.done.get_future();
  {
    std::lock_guard lock(mu_);
    if (stop_) return make_error(codes::store_error, "the store is closed");
    queue_.push_back(std::move(j));
  }
  cv_.notify_one();
  return fut.get();
}

void document_store::writer_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;
    std::deque<job> batch;
    batch.swap(queue_);
    lock.unlock();
    // Group commit: the whole batch in one transaction, each job in a savepoint of its own.
    std::vector<expected<json>> results;
    results.reserve(batch.size());
    auto begun = writer_->begin();
    for (auto& j : batch) {
      if (!begun) {
        results.emplace_back(begun.error());
        continue;
      }
      (void)writer_->exec("SAVEPOINT op");
      auto r = j.fn(*writer_);
      (void)writer_->exec(r ? "RELEASE op" : "ROLLBACK TO op; RELEASE op");
      results.push_back(std::move(r));
    }
    if (begun) {
      if (auto c = writer_->exec("COMMIT"); !c) {
        (void)writer_->exec("ROLLBACK");
        for (auto& r : results) r = c.error();
      }
    }
    lock.lock();
    commits_ += begun ? 1 : 0;  // counted before the writers hear back, so they see their own write
    writes_ += batch.size();
    lock.unlock();
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done.set_value(std::move(results[i]));
    lock.lock();
  }
}

expected<json> document_store::select(const std::string& doctype, const json& query) {
  auto q = build_select(query, reader_->dialect());
  if (!q) return q.error();
  std::lock_guard lock(read_mu_);
  auto docs = fetch(*reader_, doctype, *q, true);
  if (!docs) return docs.error();
  json data = json::array();
  for (auto& d : *docs) data.push_back(project(d, q->fields));
  return json{{"data", std::move(data)}};
}

expected<json> document_store::create(const std::string& doctype, const json& docs) {
  std::vector<json> checked;
  for (const auto& d : docs.is_array() ? docs : json::array({docs})) {
    auto c = schemas_.check_new(doctype, d);
    if (!c) return c.error();
    checked.push_back(std::move(*c));
  }
  return write([doctype, checked = std::move(checked)](sql::database& db) -> expected<json> {
    // No row back: the name is taken.
    auto ins = db.prepare("INSERT INTO documents(doctype, name, data, created, modified) VALUES(?,?,?,?,?) "
                          "ON CONFLICT DO NOTHING RETURNING name");
    if (!ins) return db.failure("insert into " + doctype);
    json out = json::array();
    for (auto doc : checked) {
      std::string name = doc.contains("name") && doc["name"].is_string() && !doc["name"].get<std::string>().empty()
                             ? doc["name"].get<std::string>()
                             : new_name(doctype);
      auto now = now_ms();
      auto body = body_of(doc);
      ins->bind_text(1, doctype);
      ins->bind_text(2, name);
      ins->bind_text(3, dump(body));
      ins->bind_int(4, now);
      ins->bind_int(5, now);
      auto rc = ins->next();
      const bool added = rc == sql::step::row;
      if (added) rc = ins->next();
      ins->reset();
      if (rc != sql::step::done) return db.failure("insert into " + doctype);
      if (!added) return make_error(codes::invalid_document, doctype + " '" + name + "' exists already");
      body["name"] = name;
      body["created"] = now;
      body["modified"] = now;
      out.push_back(std::move(body));
    }
    return json{{"data", std::move(out)}};
  });
}

expected<json> document_store::update(const std::string& doctype, const json& where, const json& data) {
  auto q = build_where(where, "where", writer_->dialect());
  if (!q) return q.error();
  if (!data.is_object()) return make_error(codes::invalid_input, "data: update needs an object of fields to set");
  return write([this, doctype, q = std::move(*q), data](sql::database& db) -> expected<json> {
    auto docs = fetch(db, doctype, q, false);
    if (!docs) return docs.error();
    auto up = db.prepare("UPDATE documents SET data = ?, modified = ? WHERE doctype = ? AND name = ?");
    if (!up) return db.failure("update " + doctype);
    json out = json::array();
    for (auto& doc : *docs) {
      auto name = doc["name"].get<std::string>();
      auto body = body_of(doc);
      body.merge_patch(body_of(data));
      if (auto c = schemas_.check(doctype, body); !c) return c.error();
      auto now = now_ms();
      up->bind_text(1, dump(body));
      up->bind_int(2, now);
      up->bind_text(3, doctype);
      up->bind_text(4, name);
      const bool ok = up->run();
      up->reset();
      if (!ok) return db.failure("update " + doctype);
      body["name"] = name;
      body["created"] = doc["created"];
      body["modified"] = now;
      out.push_back(std::move(body));
    }
    return json{{"data", std::move(out)}};
  });
}

expected<json> document_store::remove(const std::string& doctype, const json& where) {
  auto q = build_where(where, "where", writer_->dialect());
  if (!q) return q.error();
  return write([doctype, q = std::move(*q)](sql::database& db) -> expected<json> {
    auto docs = fetch(db, doctype, q, false);
    if (!docs) return docs.error();
    auto del = db.prepare("DELETE FROM documents WHERE doctype = ? AND name = ?");
    if (!del) return db.failure("delete from " + doctype);
    json names = json::array();
    for (auto& doc : *docs) {
      del->bind_text(1, doctype);
      sql::bind(*del, 2, doc["name"]);
      const bool ok = del->run();
      del->reset();
      if (!ok) return db.failure("delete from " + doctype);
      names.push_back(doc["name"]);
    }
    return json{{"data", std::move(names)}};
  });
}

}  // namespace coworker::store

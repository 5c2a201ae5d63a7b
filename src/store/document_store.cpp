// document_store: SQLite tables, the group-committing writer thread, and the four operations.
#include "store/document_store.hpp"

#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "coworker/run_record.hpp"
#include "store/query.hpp"
#include "store/database.hpp"
#include "store/sqlite.hpp"

namespace coworker::store {

namespace {

constexpr const char* schema_sql = R"(
CREATE TABLE IF NOT EXISTS documents (
  doctype TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL,
  created INTEGER NOT NULL, modified INTEGER NOT NULL, PRIMARY KEY (doctype, name));
CREATE INDEX IF NOT EXISTS documents_created ON documents(doctype, created);
)";

error sql_error(sqlite3* db, const std::string& path, const std::string& what) {
  return make_error(codes::store_error, what + " (" + path + "): " + sqlite3_errmsg(db));
}

std::string new_name(const std::string& doctype) {
  // Lower-case doctype, a dash, then the time-ordered part of a run id: unique and sortable.
  std::string prefix;
  for (char c : doctype) prefix += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return prefix + "-" + new_run_id().substr(4);
}

/// Reads matching documents (with their name/created/modified) from `db`.
expected<std::vector<json>> fetch(sqlite3* db, const std::string& path, const std::string& doctype,
                                  const sql_query& q, bool paged) {
  std::string sql = "SELECT data, name, created, modified FROM documents WHERE doctype = ? AND (" + q.where + ")";
  if (paged) sql += " ORDER BY " + q.order_by + " LIMIT ? OFFSET ?";
  sql::statement st(db, sql);
  if (st.rc != SQLITE_OK) return sql_error(db, path, "cannot query " + doctype);
  int i = 1;
  st.bind(i++, doctype);
  for (const auto& b : q.binds) st.bind(i++, b);
  if (paged) {
    for (const auto& b : q.order_binds) st.bind(i++, b);
    st.bind(i++, q.limit);
    st.bind(i++, q.offset);
  }
  std::vector<json> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    auto doc = json::parse(st.column_text(0), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) continue;
    doc["name"] = st.column_text(1);
    doc["created"] = sqlite3_column_int64(st.s, 2);
    doc["modified"] = sqlite3_column_int64(st.s, 3);
    out.push_back(std::move(doc));
  }
  if (rc != SQLITE_DONE) return sql_error(db, path, "cannot read " + doctype);
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

document_store::document_store(sqlite3* writer, sqlite3* reader, std::string path, schema_registry schemas)
    : writer_(writer), reader_(reader), path_(std::move(path)), schemas_(std::move(schemas)) {
  thread_ = std::thread([this] { writer_loop(); });
}

document_store::~document_store() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  sqlite3_close_v2(reader_);
  sqlite3_close_v2(writer_);
}

expected<std::shared_ptr<document_store>> document_store::open(const std::string& path, schema_registry schemas) {
  if (store::sql::is_postgresql(path)) return store::sql::not_yet_on_postgresql(path);
  namespace fs = std::filesystem;
  auto dir = fs::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::is_directory(dir, ec))
    return make_error(codes::store_error, "cannot open store '" + path + "': directory '" + dir.string() + "' does not exist");
  auto open_one = [&](sqlite3** db) -> expected<void> {
    if (sqlite3_open_v2(path.c_str(), db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK)
      return make_error(codes::store_error, "cannot open store '" + path + "': " + sqlite3_errmsg(*db));
    sqlite3_busy_timeout(*db, 5000);
    return {};
  };
  sqlite3* w = nullptr;
  sqlite3* r = nullptr;
  auto fail = [&](error e) {
    sqlite3_close_v2(w);
    sqlite3_close_v2(r);
    return e;
  };
  if (auto o = open_one(&w); !o) return fail(o.error());
  for (const char* setup : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", schema_sql})
    if (auto e = sql::exec(w, path, setup); !e) return fail(e.error());
  if (sqlite3_db_readonly(w, "main") == 1)
    return fail(make_error(codes::store_error, "store '" + path + "' is read-only"));
  if (auto o = open_one(&r); !o) return fail(o.error());
  return std::shared_ptr<document_store>(new document_store(w, r, path, std::move(schemas)));
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
    auto begun = sql::exec(writer_, path_, "BEGIN IMMEDIATE");
    for (auto& j : batch) {
      if (!begun) {
        results.emplace_back(begun.error());
        continue;
      }
      (void)sql::exec(writer_, path_, "SAVEPOINT op");
      auto r = j.fn(writer_);
      (void)sql::exec(writer_, path_, r ? "RELEASE op" : "ROLLBACK TO op; RELEASE op");
      results.push_back(std::move(r));
    }
    if (begun) {
      if (auto c = sql::exec(writer_, path_, "COMMIT"); !c) {
        (void)sql::exec(writer_, path_, "ROLLBACK");
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
  auto q = build_select(query);
  if (!q) return q.error();
  std::lock_guard lock(read_mu_);
  auto docs = fetch(reader_, path_, doctype, *q, true);
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
  return write([this, doctype, checked = std::move(checked)](sqlite3* db) -> expected<json> {
    sql::statement ins(db, "INSERT INTO documents(doctype, name, data, created, modified) VALUES(?,?,?,?,?)");
    if (ins.rc != SQLITE_OK) return sql_error(db, path_, "cannot insert into " + doctype);
    json out = json::array();
    for (auto doc : checked) {
      std::string name = doc.contains("name") && doc["name"].is_string() && !doc["name"].get<std::string>().empty()
                             ? doc["name"].get<std::string>()
                             : new_name(doctype);
      auto now = now_ms();
      auto body = body_of(doc);
      ins.bind(1, doctype);
      ins.bind(2, name);
      ins.bind(3, dump(body));
      ins.bind(4, now);
      ins.bind(5, now);
      int rc = sqlite3_step(ins.s);
      sqlite3_reset(ins.s);
      if (rc == SQLITE_CONSTRAINT)
        return make_error(codes::invalid_document, doctype + " '" + name + "' exists already");
      if (rc != SQLITE_DONE) return sql_error(db, path_, "cannot insert into " + doctype);
      body["name"] = name;
      body["created"] = now;
      body["modified"] = now;
      out.push_back(std::move(body));
    }
    return json{{"data", std::move(out)}};
  });
}

expected<json> document_store::update(const std::string& doctype, const json& where, const json& data) {
  auto q = build_where(where);
  if (!q) return q.error();
  if (!data.is_object()) return make_error(codes::invalid_input, "data: update needs an object of fields to set");
  return write([this, doctype, q = std::move(*q), data](sqlite3* db) -> expected<json> {
    auto docs = fetch(db, path_, doctype, q, false);
    if (!docs) return docs.error();
    sql::statement up(db, "UPDATE documents SET data = ?, modified = ? WHERE doctype = ? AND name = ?");
    if (up.rc != SQLITE_OK) return sql_error(db, path_, "cannot update " + doctype);
    json out = json::array();
    for (auto& doc : *docs) {
      auto name = doc["name"].get<std::string>();
      auto body = body_of(doc);
      body.merge_patch(body_of(data));
      if (auto c = schemas_.check(doctype, body); !c) return c.error();
      auto now = now_ms();
      up.bind(1, dump(body));
      up.bind(2, now);
      up.bind(3, doctype);
      up.bind(4, name);
      int rc = sqlite3_step(up.s);
      sqlite3_reset(up.s);
      if (rc != SQLITE_DONE) return sql_error(db, path_, "cannot update " + doctype);
      body["name"] = name;
      body["created"] = doc["created"];
      body["modified"] = now;
      out.push_back(std::move(body));
    }
    return json{{"data", std::move(out)}};
  });
}

expected<json> document_store::remove(const std::string& doctype, const json& where) {
  auto q = build_where(where);
  if (!q) return q.error();
  return write([this, doctype, q = std::move(*q)](sqlite3* db) -> expected<json> {
    auto docs = fetch(db, path_, doctype, q, false);
    if (!docs) return docs.error();
    sql::statement del(db, "DELETE FROM documents WHERE doctype = ? AND name = ?");
    json names = json::array();
    for (auto& doc : *docs) {
      del.bind(1, doctype);
      del.bind(2, doc["name"]);
      int rc = sqlite3_step(del.s);
      sqlite3_reset(del.s);
      if (rc != SQLITE_DONE) return sql_error(db, path_, "cannot delete from " + doctype);
      names.push_back(doc["name"]);
    }
    return json{{"data", std::move(names)}};
  });
}

}  // namespace coworker::store

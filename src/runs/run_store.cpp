// run_store: SQLite tables `runs` and `run_values` (records, values once), `events` (outbox, seq = row id),
// `chains` (in flight) and `run_keys`; the schema and its migration are runs/run_schema.cpp.
#include "runs/run_store.hpp"

#include <sqlite3.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "core/blob.hpp"
#include "core/frame.hpp"
#include "core/value_forms.hpp"
#include "runs/run_row.hpp"
#include "runs/retention.hpp"
#include "runs/run_schema.hpp"
#include "runs/run_writer.hpp"
#include "store/database.hpp"
#include "store/sqlite.hpp"

namespace coworker {

namespace sql = store::sql;

namespace {

error store_failure(sqlite3* db, const std::string& path, const std::string& what) {
  return make_error(codes::store_error, what + " in '" + path + "': " + (db ? sqlite3_errmsg(db) : "cannot open"));
}

/// The columns every read selects, in the order read_records takes them.
constexpr const char* record_columns =
    "SELECT r.id, COALESCE(c.id, r.id), COALESCE(o.id, ''), r.status, r.created, r.fields, r.input, vi.text, "
    "r.output, vo.text FROM runs r LEFT JOIN runs c ON c.rowid = r.chain LEFT JOIN runs o ON o.rowid = r.owner "
    "LEFT JOIN run_values vi ON vi.id = r.input LEFT JOIN run_values vo ON vo.id = r.output ";
/// A chain's runs: its root (row ?N) and the rows that reference it.
std::string chain_rows(const char* root) {
  return std::string("(r.rowid = ") + root + " OR r.chain = " + root + ")";
}

/// Records from rows of `record_columns`; a value several rows reference is parsed once and shared.
std::vector<run_record> read_records(sql::statement& q) {
  std::vector<run_record> out;
  std::unordered_map<std::int64_t, value_ptr> values;
  auto value = [&](int id_col) -> value_ptr {
    if (sqlite3_column_type(q.s, id_col) == SQLITE_NULL) return nullptr;
    auto id = sqlite3_column_int64(q.s, id_col);
    auto it = values.find(id);
    if (it != values.end()) return it->second;
    auto j = json::parse(q.column_text(id_col + 1), nullptr, false);
    value_ptr v = j.is_discarded() ? nullptr : share(std::move(j));
    values.emplace(id, v);
    return v;
  };
  while (sqlite3_step(q.s) == SQLITE_ROW) {
    runs::row row{q.column_text(0), q.column_text(1), q.column_text(2), q.column_text(3),
                  sqlite3_column_int64(q.s, 4), q.column_text(5), value(6), value(8)};
    if (auto r = runs::record_from_row(std::move(row))) out.push_back(std::move(*r));
  }
  return out;
}

/// The stored text of a value, what passes the blob budget put aside into `blobs` (with `forms`).
std::string value_text(const json& v, value_forms* forms, std::vector<blob::stored>& blobs) {
  return forms ? dump(blob::externalize(v, forms->budget(), blobs)) : dump(v);
}

/// The stored text of a chain document: its `input` as value_text keeps it.
std::string document_text(const json& doc, value_forms* forms, std::vector<blob::stored>& blobs) {
  auto in = doc.is_object() ? doc.find("input") : doc.end();
  if (!forms || in == doc.end() || approx_size(*in, forms->budget()) <= forms->budget()) return dump(doc);
  json copy = doc;
  copy["input"] = blob::externalize(*in, forms->budget(), blobs);
  return dump(copy);
}

/// A row of `chains`: root_id, document, input, key.
stored_chain read_chain(sql::statement& q) {
  stored_chain c;
  c.root_id = q.column_text(0);
  c.document = json::parse(q.column_text(1), nullptr, false);
  c.has_input = sqlite3_column_type(q.s, 2) != SQLITE_NULL;
  if (c.has_input) c.input = json::parse(q.column_text(2), nullptr, false);
  c.key = q.column_text(3);
  return c;
}

}  // namespace

run_store::run_store(sqlite3* db, std::string path, int lock_fd) : db_(db), path_(std::move(path)), lock_fd_(lock_fd) {}

run_store::~run_store() {
  sqlite3_close_v2(db_);
  ::close(lock_fd_);  // releases the flock
}

expected<std::unique_ptr<run_store>> run_store::open(const std::string& path, const std::function<void(const std::string&)>& note) {
  if (store::sql::is_postgresql(path)) return store::sql::not_yet_on_postgresql(path);
  auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty() && !std::filesystem::is_directory(dir))
    return make_error(codes::store_error, "cannot open store '" + path + "': directory '" + dir.string() + "' does not exist");
  // Two engines resuming the same chains would run them twice: one engine per file.
  auto lock_path = path + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(codes::store_error, "cannot open store '" + path + "': cannot create '" + lock_path +
                                              "': " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return make_error(codes::store_error, "store '" + path + "' is in use by another coworker (lock " + lock_path + ")");
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    auto e = store_failure(db, path, "cannot open store");
    sqlite3_close_v2(db);
    ::close(fd);
    return e;
  }
  std::unique_ptr<run_store> s(new run_store(db, path, fd));
  sqlite3_busy_timeout(db, 5000);
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"})
    if (auto r = s->exec(sql); !r) return r.error();
  if (auto r = runs::prepare_run_tables(db, path, note); !r) return r.error();
  return s;
}

expected<void> run_store::exec(const char* text) { return store::sql::exec(db_, path_, text); }

expected<void> run_store::write(const std::vector<event>& batch, const std::vector<chain_submission>& chains,
                                value_forms* forms) {
  std::vector<const event*> ptrs;
  ptrs.reserve(batch.size());
  for (const auto& e : batch) ptrs.push_back(&e);
  return write(ptrs, chains, forms);
}

std::optional<std::string> run_store::blob(const std::string& id) {
  std::lock_guard lock(mu_);
  sql::statement q(db_, "SELECT text FROM blobs WHERE id=?1");
  if (!q) return std::nullopt;
  q.bind_text(1, id);
  if (sqlite3_step(q.s) != SQLITE_ROW) return std::nullopt;
  return q.column_text(0);
}

expected<void> run_store::write(const std::vector<const event*>& batch, const std::vector<chain_submission>& chains,
                                value_forms* forms) {
  std::lock_guard lock(mu_);
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
  runs::run_writer rows(db_, refs_);
  if (!chains.empty()) {
    sql::statement q(db_, "INSERT OR REPLACE INTO chains(root_id, document, input, key) VALUES(?1,?2,?3,?4)");
    sql::statement k(db_, "INSERT OR REPLACE INTO run_keys(key, root_id) VALUES(?1,?2)");
    if (!q || !k) {
      (void)exec("ROLLBACK");
      return store_failure(db_, path_, "cannot prepare the chains table");
    }
    for (const auto& c : chains) {
      // A large input of the chain is kept as blobs, as its root run's input will be (the same ids).
      std::vector<blob::stored> blobs;
      q.bind_text(1, c.root_id);
      q.bind_text(2, document_text(deref(c.document), forms, blobs));
      if (c.input) {
        q.bind_text(3, value_text(*c.input, forms, blobs));
      } else {
        sqlite3_bind_null(q.s, 3);
      }
      if (!c.key.empty()) {
        q.bind_text(4, c.key);
      } else {
        sqlite3_bind_null(q.s, 4);
      }
      bool ok = sqlite3_step(q.s) == SQLITE_DONE && rows.write_chain_blobs(c.root_id, c.created, blobs);
      sqlite3_reset(q.s);
      if (ok && !c.key.empty()) {
        k.bind_text(1, c.key);
        k.bind_text(2, c.root_id);
        ok = sqlite3_step(k.s) == SQLITE_DONE;
        sqlite3_reset(k.s);
      }
      if (!ok) {
        auto err = store_failure(db_, path_, "cannot save chain " + c.root_id);
        (void)exec("ROLLBACK");
        return err;
      }
    }
  }
  sql::statement ev(db_, "INSERT INTO events(seq, epoch, time, kind, run_id) VALUES(?1,?2,?3,?4,?5)");
  // An ended chain's document stays (until retention) for a redrive (docs/chain-language.md, "Redrive").
  sql::statement done(db_, "UPDATE chains SET ended=1 WHERE root_id=?1");
  if (!ev || !done || !rows.ok()) {
    (void)exec("ROLLBACK");
    return store_failure(db_, path_, "cannot prepare the run tables");
  }
  // A run's row is written once per transaction, with its last state in the batch, where its first
  // event is (its owner's row comes first): a row written at its final size is not grown later, which
  // would split its page (docs/store.md, "Run records").
  std::unordered_map<std::string_view, std::pair<const run_record*, bool>> last;  // run → last state, written
  for (const auto* ep : batch) last[ep->run->id] = {ep->run.get(), false};
  std::vector<std::string> ended;  // chains whose values will not be referenced again
  for (const auto* ep : batch) {
    const auto& e = *ep;
    auto& [latest, written] = last[e.run->id];
    const auto& r = *latest;
    ev.bind_int(1, static_cast<std::int64_t>(e.seq));
    ev.bind_text(2, e.epoch);
    ev.bind_int(3, e.time);
    ev.bind_text(4, to_string(e.kind));
    ev.bind_text(5, r.id);
    bool ok = sqlite3_step(ev.s) == SQLITE_DONE;
    sqlite3_reset(ev.s);
    if (ok && !written) {
      written = true;
      ok = rows.write(r, forms);
      if (ok && r.owner_run_id.empty() && is_final(r.status)) {
        done.bind_text(1, r.id);
        ok = sqlite3_step(done.s) == SQLITE_DONE;
        sqlite3_reset(done.s);
        ended.push_back(r.id);
      }
    }
    if (!ok) {
      auto err = store_failure(db_, path_, "cannot write run " + r.id);
      (void)exec("ROLLBACK");
      refs_.clear();  // ids remembered in this transaction are gone
      return err;
    }
  }
  if (auto r = exec("COMMIT"); !r) {
    (void)exec("ROLLBACK");
    refs_.clear();
    return r;
  }
  for (const auto& chain : ended) refs_.forget(chain);
  ++commits_;
  return {};
}

std::uint64_t run_store::last_seq() {
  std::lock_guard lock(mu_);
  sql::statement q(db_, "SELECT COALESCE(MAX(seq), 0) FROM events");
  if (!q || sqlite3_step(q.s) != SQLITE_ROW) return 0;
  return static_cast<std::uint64_t>(sqlite3_column_int64(q.s, 0));
}

std::vector<stored_chain> run_store::unfinished_chains() {
  std::lock_guard lock(mu_);
  std::vector<stored_chain> out;
  sql::statement q(db_, "SELECT root_id, document, input, key FROM chains WHERE ended=0 ORDER BY root_id");
  if (!q) return out;
  while (sqlite3_step(q.s) == SQLITE_ROW)
    if (auto c = read_chain(q); !c.document.is_discarded()) out.push_back(std::move(c));
  return out;
}

std::optional<stored_chain> run_store::chain(const std::string& root_id) {
  std::lock_guard lock(mu_);
  sql::statement q(db_, "SELECT root_id, document, input, key FROM chains WHERE root_id=?1");
  if (!q) return std::nullopt;
  q.bind_text(1, root_id);
  if (sqlite3_step(q.s) != SQLITE_ROW) return std::nullopt;
  auto c = read_chain(q);
  if (c.document.is_discarded()) return std::nullopt;
  return c;
}


std::vector<run_record> run_store::chain_records(const std::string& chain_id) {
  std::lock_guard lock(mu_);
  sql::statement q(db_, std::string(record_columns) + "WHERE " + chain_rows("(SELECT rowid FROM runs WHERE id=?1)"));
  if (!q) return {};
  q.bind_text(1, chain_id);
  return read_records(q);
}

std::vector<run_record> run_store::recent_chain_records(std::size_t limit) {
  std::lock_guard lock(mu_);
  sql::statement q(db_, std::string("WITH recent(row) AS (SELECT rowid FROM runs WHERE owner IS NULL "
                                        "AND status IN ('completed','failed','skipped','cancelled') ORDER BY id DESC LIMIT ?1) ") +
                            record_columns + "WHERE r.rowid IN recent OR r.chain IN recent");
  if (!q) return {};
  q.bind_int(1, static_cast<std::int64_t>(limit));
  return read_records(q);
}

std::vector<std::pair<std::string, std::string>> run_store::keys() {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  sql::statement q(db_, "SELECT key, root_id FROM run_keys");
  if (!q) return out;
  while (sqlite3_step(q.s) == SQLITE_ROW) out.emplace_back(q.column_text(0), q.column_text(1));
  return out;
}

std::vector<std::pair<std::string, std::string>> run_store::unfinished_keys() {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  sql::statement q(db_, "SELECT key, root_id FROM chains WHERE ended=0 AND key IS NOT NULL");
  if (!q) return out;
  while (sqlite3_step(q.s) == SQLITE_ROW) out.emplace_back(q.column_text(0), q.column_text(1));
  return out;
}

std::optional<run_record> run_store::record(const std::string& id) {
  std::lock_guard lock(mu_);
  sql::statement q(db_, std::string(record_columns) + "WHERE r.id=?1");
  if (!q) return std::nullopt;
  q.bind_text(1, id);
  auto found = read_records(q);
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::vector<run_record> run_store::list(const list_filter& f) {
  std::lock_guard lock(mu_);
  std::string text = std::string(record_columns) + "WHERE 1";
  if (f.status) text += " AND r.status=?1";
  if (f.roots_only) text += " AND r.owner IS NULL";
  if (!f.chain_id.empty()) text += " AND " + chain_rows("(SELECT rowid FROM runs WHERE id=?2)");
  text += " ORDER BY r.id DESC LIMIT ?3";
  sql::statement q(db_, text.c_str());
  if (!q) return {};
  if (f.status) q.bind_text(1, std::string(to_string(*f.status)));
  if (!f.chain_id.empty()) q.bind_text(2, f.chain_id);
  q.bind_int(3, f.limit > static_cast<std::size_t>(INT64_MAX) ? -1 : static_cast<std::int64_t>(f.limit));
  return read_records(q);
}

std::optional<std::string> run_store::find_key(const std::string& key) {
  std::lock_guard lock(mu_);
  sql::statement q(db_, "SELECT root_id FROM run_keys WHERE key=?1");
  if (!q) return std::nullopt;
  q.bind_text(1, key);
  if (sqlite3_step(q.s) != SQLITE_ROW) return std::nullopt;
  return q.column_text(0);
}

expected<std::size_t> run_store::prune(const retention_policy& p, std::int64_t now) {
  std::lock_guard lock(mu_);
  // Only chains that ended: a scheduled or waiting chain is in flight, however old.
  const char* finished_roots = "FROM runs WHERE owner IS NULL AND status IN ('completed','failed','skipped','cancelled') ";
  // Finished chains with an id below the oldest of the newest keep_chains are past the count.
  std::string boundary;
  if (p.keep_chains == 0) {
    boundary = "\x7f";  // above every id
  } else {
    sql::statement b(db_, std::string("SELECT id ") + finished_roots + "ORDER BY id DESC LIMIT 1 OFFSET ?1");
    if (!b) return store_failure(db_, path_, "cannot prepare retention");
    b.bind_int(1, static_cast<std::int64_t>(p.keep_chains - 1));
    if (sqlite3_step(b.s) == SQLITE_ROW) boundary = b.column_text(0);
  }
  sql::statement q(db_, std::string("SELECT rowid, id ") + finished_roots + "AND (id < ?1 OR created < ?2) ORDER BY id LIMIT ?3");
  if (!q) return store_failure(db_, path_, "cannot prepare retention");
  q.bind_text(1, boundary);
  q.bind_int(2, p.keep_ms > 0 ? now - p.keep_ms : INT64_MIN);
  q.bind_int(3, static_cast<std::int64_t>(p.slice));
  std::vector<std::pair<std::int64_t, std::string>> old;
  while (sqlite3_step(q.s) == SQLITE_ROW) old.emplace_back(sqlite3_column_int64(q.s, 0), q.column_text(1));
  if (old.empty()) return std::size_t{0};
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r.error();
  sql::statement steps(db_, "DELETE FROM runs WHERE chain=?1");
  sql::statement root(db_, "DELETE FROM runs WHERE rowid=?1");
  sql::statement values(db_, "DELETE FROM run_values WHERE chain=?1");
  sql::statement keys(db_, "DELETE FROM run_keys WHERE root_id=?1");
  sql::statement documents(db_, "DELETE FROM chains WHERE root_id=?1");
  // A blob is shared by every chain that carried the same value: it goes with the last of them.
  sql::statement links(db_, "DELETE FROM run_blobs WHERE chain=?1 RETURNING blob");
  sql::statement blobs(db_, "DELETE FROM blobs WHERE id=?1 AND NOT EXISTS (SELECT 1 FROM run_blobs WHERE blob=?1)");
  bool ok = steps && root && values && keys && documents && links && blobs;
  std::vector<std::string> unlinked;
  for (const auto& [row, id] : old) {
    for (auto* d : {&steps, &root, &values}) {
      if (!ok) break;
      d->bind_int(1, row);
      ok = sqlite3_step(d->s) == SQLITE_DONE;
      sqlite3_reset(d->s);
    }
    if (!ok) break;
    for (auto* d : {&keys, &documents}) {
      d->bind_text(1, id);
      ok = ok && sqlite3_step(d->s) == SQLITE_DONE;
      sqlite3_reset(d->s);
    }
    links.bind_int(1, row);
    int rc = SQLITE_DONE;
    while (ok && (rc = sqlite3_step(links.s)) == SQLITE_ROW) unlinked.push_back(links.column_text(0));
    ok = ok && rc == SQLITE_DONE;
    sqlite3_reset(links.s);
  }
  for (const auto& b : unlinked) {
    if (!ok) break;
    blobs.bind_text(1, b);
    ok = sqlite3_step(blobs.s) == SQLITE_DONE;
    sqlite3_reset(blobs.s);
  }
  if (!ok) {
    auto err = store_failure(db_, path_, "cannot delete old chains");
    (void)exec("ROLLBACK");
    return err;
  }
  if (auto r = exec("COMMIT"); !r) {
    (void)exec("ROLLBACK");
    return r.error();
  }
  return old.size();
}

expected<void> run_store::trim_events(std::uint64_t window) {
  std::lock_guard lock(mu_);
  sql::statement d(db_, "DELETE FROM events WHERE seq < (SELECT MAX(seq) FROM events) - ?1");
  if (!d) return store_failure(db_, path_, "cannot prepare the events' trim");
  d.bind_int(1, static_cast<std::int64_t>(window));
  if (sqlite3_step(d.s) != SQLITE_DONE) return store_failure(db_, path_, "cannot trim the events");
  return {};
}

}  // namespace coworker

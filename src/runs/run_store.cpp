// run_store: tables `runs` and `run_values` (records, values once), `events` (outbox, seq = row id),
// `chains` (in flight) and `run_keys`, in a SQLite file (schema and migration: runs/run_schema.cpp) or
// a PostgreSQL database (runs/postgresql_schema.cpp); every statement reads the same on both.
#include "runs/run_store.hpp"

#include <sqlite3.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "core/blob.hpp"
#include "core/frame.hpp"
#include "core/value_forms.hpp"
#include "cluster/lease_book.hpp"
#include "runs/run_row.hpp"
#include "runs/retention.hpp"
#include "runs/postgresql_schema.hpp"
#include "runs/run_schema.hpp"
#include "runs/run_writer.hpp"
#include "store/database.hpp"
#include "store/sqlite_database.hpp"

namespace coworker {

namespace sql = store::sql;

namespace {

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
std::vector<run_record> read_records(sql::query& q) {
  std::vector<run_record> out;
  std::unordered_map<std::int64_t, value_ptr> values;
  auto value = [&](int id_col) -> value_ptr {
    if (q.is_null(id_col)) return nullptr;
    auto id = q.integer(id_col);
    auto it = values.find(id);
    if (it != values.end()) return it->second;
    auto j = json::parse(q.text(id_col + 1), nullptr, false);
    value_ptr v = j.is_discarded() ? nullptr : share(std::move(j));
    values.emplace(id, v);
    return v;
  };
  while (q.next() == sql::step::row) {
    runs::row row{q.text(0), q.text(1), q.text(2), q.text(3), q.integer(4), q.text(5), value(6), value(8)};
    if (auto r = runs::record_from_row(std::move(row))) out.push_back(std::move(*r));
  }
  return out;
}

/// Writes the batch's event rows, up to 32 to a statement: one statement per row costs SQLite its
/// work per statement and PostgreSQL a round trip each (docs/store.md, "Run records").
bool write_events(sql::database& db, const std::vector<const event*>& batch) {
  constexpr std::size_t most = 32;
  std::size_t at = 0;
  while (at < batch.size()) {
    std::size_t n = most;  // chunks of 32, 16, … 1 rows: a few statement texts, each prepared once
    while (n > batch.size() - at) n /= 2;
    std::string text = "INSERT INTO events(seq, epoch, time, kind, run_id) VALUES(?,?,?,?,?)";
    for (std::size_t i = 1; i < n; ++i) text += ",(?,?,?,?,?)";
    auto q = db.prepare(text);
    if (!q) return false;
    int p = 1;
    for (std::size_t i = at; i < at + n; ++i) {
      const auto& e = *batch[i];
      q->bind_int(p++, static_cast<std::int64_t>(e.seq));
      q->bind_kept_text(p++, e.epoch);
      q->bind_int(p++, e.time);
      q->bind_text(p++, to_string(e.kind));
      q->bind_kept_text(p++, e.run->id);
    }
    if (!q->run()) return false;
    at += n;
  }
  return true;
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
stored_chain read_chain(sql::query& q) {
  stored_chain c;
  c.root_id = q.text(0);
  c.document = json::parse(q.text(1), nullptr, false);
  c.has_input = !q.is_null(2);
  if (c.has_input) c.input = json::parse(q.text(2), nullptr, false);
  c.key = q.text(3);
  return c;
}

/// A PostgreSQL store is shared: several engines (nodes) write it, each the partitions it leases
/// (docs/cluster.md); its tables are made by whichever comes first.
expected<std::unique_ptr<sql::database>> open_postgresql(const std::string& url) {
  auto db = sql::open(url, "the run records");
  if (!db) return db.error();
  if (auto r = runs::prepare_postgresql_tables(**db); !r) return r.error();
  return std::move(*db);
}

/// `{0,3}`: partitions as a PostgreSQL array literal.
std::string array_text(const std::vector<int>& partitions) {
  std::string out = "{";
  for (std::size_t i = 0; i < partitions.size(); ++i) out += (i ? "," : "") + std::to_string(partitions[i]);
  return out + "}";
}

std::vector<int> partitions_of(const std::vector<cluster::lease>& held) {
  std::vector<int> out;
  for (const auto& l : held) out.push_back(l.partition);
  return out;
}

/// The SQLite file, created when missing, locked for this engine (`<file>.lock`), WAL.
expected<std::pair<std::unique_ptr<sql::database>, int>> open_sqlite(const std::string& path) {
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
  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    auto e = make_error(codes::store_error, "cannot open store in '" + path + "': " +
                                                (handle ? sqlite3_errmsg(handle) : "cannot open"));
    sqlite3_close_v2(handle);
    ::close(fd);
    return e;
  }
  sqlite3_busy_timeout(handle, 5000);
  auto db = sql::adopt_sqlite(handle, path);
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
    if (auto r = db->exec(pragma); !r) {
      db.reset();
      ::close(fd);
      return r.error();
    }
  }
  return std::pair{std::move(db), fd};
}

}  // namespace

run_store::run_store(std::unique_ptr<sql::database> db, int lock_fd) : db_(std::move(db)), lock_fd_(lock_fd) {}

run_store::~run_store() {
  db_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

expected<std::unique_ptr<run_store>> run_store::open(const std::string& location,
                                                     const std::function<void(const std::string&)>& note) {
  if (sql::is_postgresql(location)) {
    auto db = open_postgresql(location);
    if (!db) return db.error();
    return std::unique_ptr<run_store>(new run_store(std::move(*db), -1));
  }
  auto opened = open_sqlite(location);
  if (!opened) return opened.error();
  std::unique_ptr<run_store> s(new run_store(std::move(opened->first), opened->second));
  if (auto r = runs::prepare_run_tables(*s->db_, note); !r) return r.error();
  return s;
}

const std::string& run_store::location() const { return db_->name(); }

expected<void> run_store::write_under(const cluster::lease_book* book, std::int64_t lease_ms) {
  std::lock_guard lock(mu_);
  book_ = book;
  // A node paused in the middle of a write holds its lease rows: the server ends such a session
  // after half a lease, so that a takeover waits that long at most (docs/cluster.md).
  return db_->exec("SET idle_in_transaction_session_timeout = " + std::to_string(std::max<std::int64_t>(lease_ms / 2, 100)));
}

void run_store::fence(std::string why) {
  std::lock_guard lock(fenced_mu_);
  fenced_ = std::move(why);
}

expected<void> run_store::write(const std::vector<event>& batch, const std::vector<chain_submission>& chains,
                                value_forms* forms) {
  std::vector<const event*> ptrs;
  ptrs.reserve(batch.size());
  for (const auto& e : batch) ptrs.push_back(&e);
  return write(ptrs, chains, forms);
}

std::optional<std::string> run_store::blob(const std::string& id) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT text FROM blobs WHERE id=?1");
  if (!q) return std::nullopt;
  q->bind_text(1, id);
  if (q->next() != sql::step::row) return std::nullopt;
  return q->text(0);
}

expected<void> run_store::write(const std::vector<const event*>& batch, const std::vector<chain_submission>& chains,
                                value_forms* forms) {
  std::lock_guard lock(mu_);
  {
    std::lock_guard fence_lock(fenced_mu_);
    if (!fenced_.empty()) return make_error(codes::store_error, fenced_);
  }
  if (auto r = db_->begin(); !r) return r;
  // A node writes only while it holds its leases: checked in the transaction, whose row locks keep a
  // takeover waiting until it ends (docs/cluster.md, "Leases and fencing").
  if (book_)
    if (auto r = book_->check(*db_); !r) {
      (void)db_->exec("ROLLBACK");
      refs_.clear();
      return r;
    }
  auto fail = [&](const std::string& what) {
    auto err = db_->failure(what);
    (void)db_->exec("ROLLBACK");
    refs_.clear();  // ids remembered in this transaction are gone
    return err;
  };
  runs::run_writer rows(*db_, refs_);
  if (!chains.empty()) {
    // A chain submitted again (a resumed redrive) replaces its row, in flight again.
    // In a cluster a chain is in the partition of the node that runs it: a redrive moves it there.
    auto q = book_ ? db_->prepare("INSERT INTO chains(root_id, document, input, key, ended, partition) VALUES(?1,?2,?3,?4,0,?5) "
                                  "ON CONFLICT(root_id) DO UPDATE SET document=excluded.document, input=excluded.input, "
                                  "key=excluded.key, ended=0, partition=excluded.partition")
                   : db_->prepare("INSERT INTO chains(root_id, document, input, key, ended) VALUES(?1,?2,?3,?4,0) "
                                  "ON CONFLICT(root_id) DO UPDATE SET document=excluded.document, input=excluded.input, "
                                  "key=excluded.key, ended=0");
    auto k = db_->prepare("INSERT INTO run_keys(key, root_id) VALUES(?1,?2) "
                          "ON CONFLICT(key) DO UPDATE SET root_id=excluded.root_id");
    if (!q || !k) return fail("prepare the chains table");
    for (const auto& c : chains) {
      // A large input of the chain is kept as blobs, as its root run's input will be (the same ids).
      std::vector<blob::stored> blobs;
      q->bind_text(1, c.root_id);
      q->bind_text(2, document_text(deref(c.document), forms, blobs));
      if (c.input) {
        q->bind_text(3, value_text(*c.input, forms, blobs));
      } else {
        q->bind_null(3);
      }
      if (!c.key.empty()) {
        q->bind_text(4, c.key);
      } else {
        q->bind_null(4);
      }
      if (book_) q->bind_int(5, book_->home());
      bool ok = q->run() && rows.write_chain_blobs(c.root_id, c.created, blobs);
      q->reset();
      if (ok && !c.key.empty()) {
        k->bind_text(1, c.key);
        k->bind_text(2, c.root_id);
        ok = k->run();
        k->reset();
      }
      if (!ok) return fail("save chain " + c.root_id);
    }
  }
  if (!batch.empty() && !write_events(*db_, batch))
    return fail("write the events of seq " + std::to_string(batch.front()->seq) + " to " +
                std::to_string(batch.back()->seq));
  // An ended chain's document stays (until retention) for a redrive (docs/chain-language.md, "Redrive").
  auto done = db_->prepare("UPDATE chains SET ended=1 WHERE root_id=?1");
  if (!done || !rows.ok()) return fail("prepare the run tables");
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
    bool ok = true;
    if (!written) {
      written = true;
      ok = rows.write(r, forms);
      if (ok && r.owner_run_id.empty() && is_final(r.status)) {
        done->bind_text(1, r.id);
        ok = done->run();
        done->reset();
        ended.push_back(r.id);
      }
    }
    if (!ok) return fail("write run " + r.id);
  }
  if (auto r = db_->exec("COMMIT"); !r) {
    (void)db_->exec("ROLLBACK");
    refs_.clear();
    return r;
  }
  for (const auto& chain : ended) refs_.forget(chain);
  ++commits_;
  return {};
}

std::uint64_t run_store::last_seq() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT COALESCE(MAX(seq), 0) FROM events");
  if (!q || q->next() != sql::step::row) return 0;
  return static_cast<std::uint64_t>(q->integer(0));
}

std::vector<stored_chain> run_store::unfinished_chains(std::optional<std::vector<int>> partitions) {
  std::lock_guard lock(mu_);
  std::vector<stored_chain> out;
  if (book_ && !partitions) partitions = partitions_of(book_->held());
  auto q = db_->prepare(std::string("SELECT root_id, document, input, key FROM chains WHERE ended=0 ") +
                        (partitions ? "AND partition = ANY(?1::int[]) " : "") + "ORDER BY root_id");
  if (!q) return out;
  if (partitions) q->bind_text(1, array_text(*partitions));
  while (q->next() == sql::step::row)
    if (auto c = read_chain(*q); !c.document.is_discarded()) out.push_back(std::move(c));
  return out;
}

std::optional<stored_chain> run_store::chain(const std::string& root_id) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT root_id, document, input, key FROM chains WHERE root_id=?1");
  if (!q) return std::nullopt;
  q->bind_text(1, root_id);
  if (q->next() != sql::step::row) return std::nullopt;
  auto c = read_chain(*q);
  if (c.document.is_discarded()) return std::nullopt;
  return c;
}

std::vector<run_record> run_store::chain_records(const std::string& chain_id) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(std::string(record_columns) + "WHERE " + chain_rows("(SELECT rowid FROM runs WHERE id=?1)"));
  if (!q) return {};
  q->bind_text(1, chain_id);
  return read_records(*q);
}

std::vector<run_record> run_store::recent_chain_records(std::size_t limit) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(std::string("WITH recent(row_id) AS (SELECT rowid FROM runs WHERE owner IS NULL "
                                    "AND status IN ('completed','failed','skipped','cancelled') ORDER BY id DESC LIMIT ?1) ") +
                        record_columns +
                        "WHERE r.rowid IN (SELECT row_id FROM recent) OR r.chain IN (SELECT row_id FROM recent)");
  if (!q) return {};
  q->bind_int(1, static_cast<std::int64_t>(limit));
  return read_records(*q);
}

std::vector<std::pair<std::string, std::string>> run_store::keys() {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  auto q = db_->prepare("SELECT key, root_id FROM run_keys");
  if (!q) return out;
  while (q->next() == sql::step::row) out.emplace_back(q->text(0), q->text(1));
  return out;
}

std::vector<std::pair<std::string, std::string>> run_store::unfinished_keys() {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  auto q = db_->prepare(std::string("SELECT key, root_id FROM chains WHERE ended=0 AND key IS NOT NULL") +
                        (book_ ? " AND partition = ANY(?1::int[])" : ""));
  if (!q) return out;
  if (book_) q->bind_text(1, array_text(partitions_of(book_->held())));
  while (q->next() == sql::step::row) out.emplace_back(q->text(0), q->text(1));
  return out;
}

std::optional<run_record> run_store::record(const std::string& id) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(std::string(record_columns) + "WHERE r.id=?1");
  if (!q) return std::nullopt;
  q->bind_text(1, id);
  auto found = read_records(*q);
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::vector<run_record> run_store::list(const list_filter& f) {
  std::lock_guard lock(mu_);
  std::string text = std::string(record_columns) + "WHERE 1=1";
  if (f.status) text += " AND r.status=?1";
  if (f.roots_only) text += " AND r.owner IS NULL";
  if (!f.chain_id.empty()) text += " AND " + chain_rows("(SELECT rowid FROM runs WHERE id=?2)");
  text += " ORDER BY r.id DESC LIMIT ?3";
  auto q = db_->prepare(text);
  if (!q) return {};
  if (f.status) q->bind_text(1, to_string(*f.status));
  if (!f.chain_id.empty()) q->bind_text(2, f.chain_id);
  q->bind_int(3, f.limit > static_cast<std::size_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(f.limit));
  return read_records(*q);
}

std::optional<std::string> run_store::find_key(const std::string& key) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT root_id FROM run_keys WHERE key=?1");
  if (!q) return std::nullopt;
  q->bind_text(1, key);
  if (q->next() != sql::step::row) return std::nullopt;
  return q->text(0);
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
    auto b = db_->prepare(std::string("SELECT id ") + finished_roots + "ORDER BY id DESC LIMIT 1 OFFSET ?1");
    if (!b) return db_->failure("prepare retention");
    b->bind_int(1, static_cast<std::int64_t>(p.keep_chains - 1));
    if (b->next() == sql::step::row) boundary = b->text(0);
  }
  auto q = db_->prepare(std::string("SELECT rowid, id ") + finished_roots + "AND (id < ?1 OR created < ?2) ORDER BY id LIMIT ?3");
  if (!q) return db_->failure("prepare retention");
  q->bind_text(1, boundary);
  q->bind_int(2, p.keep_ms > 0 ? now - p.keep_ms : INT64_MIN);
  q->bind_int(3, static_cast<std::int64_t>(p.slice));
  std::vector<std::pair<std::int64_t, std::string>> old;
  while (q->next() == sql::step::row) old.emplace_back(q->integer(0), q->text(1));
  q.reset();
  if (old.empty()) return std::size_t{0};
  if (auto r = db_->begin(); !r) return r.error();
  auto steps = db_->prepare("DELETE FROM runs WHERE chain=?1");
  auto root = db_->prepare("DELETE FROM runs WHERE rowid=?1");
  auto values = db_->prepare("DELETE FROM run_values WHERE chain=?1");
  auto keys = db_->prepare("DELETE FROM run_keys WHERE root_id=?1");
  auto documents = db_->prepare("DELETE FROM chains WHERE root_id=?1");
  // A blob is shared by every chain that carried the same value: it goes with the last of them.
  auto links = db_->prepare("DELETE FROM run_blobs WHERE chain=?1 RETURNING blob");
  auto blobs = db_->prepare("DELETE FROM blobs WHERE id=?1 AND NOT EXISTS (SELECT 1 FROM run_blobs WHERE blob=?1)");
  bool ok = steps && root && values && keys && documents && links && blobs;
  std::vector<std::string> unlinked;
  for (const auto& [row, id] : old) {
    for (auto* d : {&steps, &root, &values}) {
      if (!ok) break;
      (*d)->bind_int(1, row);
      ok = (*d)->run();
      (*d)->reset();
    }
    if (!ok) break;
    for (auto* d : {&keys, &documents}) {
      (*d)->bind_text(1, id);
      ok = ok && (*d)->run();
      (*d)->reset();
    }
    links->bind_int(1, row);
    auto rc = sql::step::done;
    while (ok && (rc = links->next()) == sql::step::row) unlinked.push_back(links->text(0));
    ok = ok && rc == sql::step::done;
    links->reset();
  }
  for (const auto& b : unlinked) {
    if (!ok) break;
    blobs->bind_text(1, b);
    ok = blobs->run();
    blobs->reset();
  }
  if (!ok) {
    auto err = db_->failure("delete old chains");
    (void)db_->exec("ROLLBACK");
    return err;
  }
  if (auto r = db_->exec("COMMIT"); !r) {
    (void)db_->exec("ROLLBACK");
    return r.error();
  }
  return old.size();
}

expected<void> run_store::trim_events(std::uint64_t window) {
  std::lock_guard lock(mu_);
  auto d = db_->prepare("DELETE FROM events WHERE seq < (SELECT MAX(seq) FROM events) - ?1");
  if (!d) return db_->failure("prepare the events' trim");
  d->bind_int(1, static_cast<std::int64_t>(window));
  if (!d->run()) return db_->failure("trim the events");
  return {};
}

}  // namespace coworker

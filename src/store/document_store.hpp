// The document store (docs/store.md): JSON documents by doctype in one SQLite file (WAL) or a
// PostgreSQL database (docs/store.md, "Two databases"). Writes are
// queued to one writer thread that commits many of them per transaction (group commit); each
// operation runs in a savepoint of its own, so one failing write does not fail its neighbours and
// no reader ever sees half of an operation.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "coworker/error.hpp"
#include "coworker/json.hpp"
#include "store/database.hpp"
#include "store/schema.hpp"

namespace coworker::store {

/// `$XDG_DATA_HOME/coworker/coworker.db`, else `~/.local/share/coworker/coworker.db` (the directory
/// is created), else `./coworker.db`.
std::string default_db_path();

class document_store {
 public:
  /// Opens (creating if needed) the file `location`, or the PostgreSQL database of a postgresql://
  /// URL. store_error naming the store when it cannot be used.
  static expected<std::shared_ptr<document_store>> open(const std::string& location, schema_registry schemas = {});
  ~document_store();
  document_store(const document_store&) = delete;
  document_store& operator=(const document_store&) = delete;

  /// `{where?, fields?, orderBy?, limit?, offset?}` → `{data: [docs]}`.
  expected<json> select(const std::string& doctype, const json& query);
  /// One document or an array of them → `{data: [created docs]}`.
  expected<json> create(const std::string& doctype, const json& docs);
  /// Merges `data` into every document matching `where` → `{data: [updated docs]}`.
  expected<json> update(const std::string& doctype, const json& where, const json& data);
  /// Deletes every document matching `where` → `{data: [names]}`.
  expected<json> remove(const std::string& doctype, const json& where);

  const schema_registry& schemas() const { return schemas_; }
  /// The file's path, or the URL without its password.
  const std::string& path() const { return writer_->name(); }
  /// Transactions the writer has committed (fewer than writes under load: group commit).
  std::uint64_t commits() const;
  std::uint64_t writes() const;

 private:
  document_store(std::unique_ptr<sql::database> writer, std::unique_ptr<sql::database> reader, schema_registry schemas);
  using write_fn = std::function<expected<json>(sql::database&)>;
  expected<json> write(write_fn fn);
  void writer_loop();

  std::unique_ptr<sql::database> writer_;
  std::unique_ptr<sql::database> reader_;
  schema_registry schemas_;
  std::mutex read_mu_;

  struct job {
    write_fn fn;
    std::promise<expected<json>> done;
  };
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<job> queue_;
  bool stop_ = false;
  std::uint64_t commits_ = 0;
  std::uint64_t writes_ = 0;
  std::thread thread_;
};

}  // namespace coworker::store

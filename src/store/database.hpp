// One connection to a store, SQLite file or PostgreSQL server, behind one small interface
// (docs/store.md, "Two databases"): statements written once with `?1`, `?2` markers, bound, stepped
// row by row and read as text or integers. A store class written against it runs on both; what
// differs (the tables' DDL, BEGIN IMMEDIATE) is asked of `dialect()`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "coworker/error.hpp"
#include "coworker/json.hpp"

namespace coworker::store::sql {

enum class dialect { sqlite, postgresql };

/// What one step of a statement gave.
enum class step { row, done, failed };

class query {
 public:
  virtual ~query() = default;
  /// Parameters are numbered from 1 (`?1`); a bound value stays until bound again.
  virtual void bind_text(int i, std::string_view v) = 0;
  /// As bind_text, for text the caller keeps unchanged until the statement is reset or bound again:
  /// SQLite then reads it in place instead of copying it (the committer's values and fields).
  virtual void bind_kept_text(int i, std::string_view v) { bind_text(i, v); }
  virtual void bind_int(int i, std::int64_t v) = 0;
  virtual void bind_double(int i, double v) = 0;
  virtual void bind_null(int i) = 0;
  /// The next row; the first call runs the statement.
  virtual step next() = 0;
  /// Columns of the current row, numbered from 0. A NULL reads as "" and 0.
  virtual std::string text(int col) = 0;
  virtual std::int64_t integer(int col) = 0;
  virtual bool is_null(int col) = 0;
  /// How many columns a row has.
  virtual int columns() = 0;
  /// Ready to run again (with the values bound so far).
  virtual void reset() = 0;
  /// SQLite: the rowid of the row the connection's last INSERT added, and how many rows its last
  /// statement changed — what `RETURNING` says, without the result table SQLite builds for it
  /// (runs/run_writer.cpp). PostgreSQL has no such thing: 0.
  virtual std::int64_t inserted_rowid() { return 0; }
  virtual std::int64_t changes() { return 0; }
  /// Runs a statement that returns no row: true when it did.
  bool run() { return next() == step::done; }
};

class database {
 public:
  virtual ~database() = default;
  virtual sql::dialect dialect() const = 0;
  /// A prepared statement, or null (error_message() says why).
  virtual std::unique_ptr<query> prepare(std::string_view text) = 0;
  /// Runs statements without parameters; a store_error naming the store on failure.
  virtual expected<void> exec(std::string_view text) = 0;
  /// Starts a transaction that takes the write lock at once (SQLite: BEGIN IMMEDIATE).
  virtual expected<void> begin() = 0;
  /// The last failure's text, as the database gave it.
  virtual std::string error_message() = 0;
  /// How errors name this store: the file's path, or the server's URL without its password.
  const std::string& name() const { return name_; }
  /// A store_error "store '<name>': cannot <what>: <the database's message>".
  error failure(std::string_view what);

 protected:
  explicit database(std::string name) : name_(std::move(name)) {}

 private:
  std::string name_;
};

/// Binds a JSON value as SQLite sees json_extract's results: booleans as 1/0, structures as their text.
void bind(query& q, int i, const json& v);

/// True for `postgresql://…` and `postgres://…` (libpq's connection URIs).
bool is_postgresql(std::string_view location);

/// How logs and errors name the store at `location`: a file's path, a URL without its password.
std::string display_name(std::string_view location);

/// Opens `location`: a PostgreSQL server for a postgresql:// URL, else an existing SQLite file (WAL,
/// a 5 s busy timeout, synchronous=FULL). `what` names the part of the store in the error.
expected<std::unique_ptr<database>> open(const std::string& location, const std::string& what);

/// `text` with `?N` markers turned into PostgreSQL's `$N`, and bare `?` into `$1`, `$2`… in order (not
/// inside quoted literals or names). A statement uses one style or the other.
std::string postgresql_markers(std::string_view text);

}  // namespace coworker::store::sql

// Published chains in the SQLite file (docs/store.md): each version once, as published (its calls
// pinned), and the aliases, so definitions survive restarts.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/json.hpp"

struct sqlite3;

namespace coworker {

struct stored_definition {
  std::string name;
  int version = 0;
  json body;  ///< {"sha256","chain","inputSchema","outputSchema","created"}
};

struct stored_alias {
  std::string name, alias;
  int version = 0;
};

class definition_store {
 public:
  static expected<std::unique_ptr<definition_store>> open(const std::string& path);
  ~definition_store();
  definition_store(const definition_store&) = delete;
  definition_store& operator=(const definition_store&) = delete;

  /// Every version, in the order they were published.
  expected<std::vector<stored_definition>> load();
  expected<std::vector<stored_alias>> aliases();
  expected<void> put(const stored_definition& d);
  expected<void> alias(const stored_alias& a);

 private:
  definition_store(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::mutex mu_;
};

}  // namespace coworker

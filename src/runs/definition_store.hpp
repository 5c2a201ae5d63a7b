// Published chains in the store, SQLite file or PostgreSQL (docs/store.md): each version once, as published (its calls
// pinned), and the aliases, so definitions survive restarts.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/json.hpp"

namespace coworker {

namespace store::sql {
class database;
}

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
  /// Opens its own connection to the store at `location` (a file or a postgresql:// URL).
  static expected<std::unique_ptr<definition_store>> open(const std::string& location);
  ~definition_store();
  definition_store(const definition_store&) = delete;
  definition_store& operator=(const definition_store&) = delete;

  /// Every version, in the order they were published.
  expected<std::vector<stored_definition>> load();
  expected<std::vector<stored_alias>> aliases();
  expected<void> put(const stored_definition& d);
  expected<void> alias(const stored_alias& a);

 private:
  explicit definition_store(std::unique_ptr<store::sql::database> db);
  std::unique_ptr<store::sql::database> db_;
  std::mutex mu_;
};

}  // namespace coworker

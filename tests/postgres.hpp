// The PostgreSQL server of the test run (scripts/postgres.sh, started by ctest's `postgres_server`
// fixture, tests/CMakeLists.txt) and a database of its own per test, dropped after: what the store
// tests run against besides a SQLite file (docs/testing.md, "Two databases").
#pragma once

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "store/database.hpp"

namespace coworker::test {

/// The server's URL: COWORKER_TEST_POSTGRES when set, else what the fixture wrote.
inline std::string postgres_server_url() {
  if (const char* url = std::getenv("COWORKER_TEST_POSTGRES"); url && *url) return url;
  std::ifstream in(std::string(COWORKER_POSTGRES_STATE) + "/url");
  std::string url;
  if (!(in >> url))
    throw std::runtime_error("no PostgreSQL server for the tests: run them with ctest (its postgres_server fixture "
                             "starts one), or `scripts/postgres.sh start " COWORKER_POSTGRES_STATE "` first");
  return url;
}

/// A fresh database on the test server, dropped when this goes.
class postgres_database {
 public:
  postgres_database() {
    static std::atomic<int> counter{0};
    server_ = postgres_server_url();
    name_ = "t" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    admin("DROP DATABASE IF EXISTS " + name_);
    admin("CREATE DATABASE " + name_);
    const auto slash = server_.rfind('/');
    url_ = server_.substr(0, slash + 1) + name_;
  }
  ~postgres_database() {
    try {
      admin("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (...) {
    }
  }
  postgres_database(const postgres_database&) = delete;
  postgres_database& operator=(const postgres_database&) = delete;
  const std::string& url() const { return url_; }

 private:
  void admin(const std::string& text) {
    auto db = store::sql::open(server_, "the tests");
    if (!db) throw std::runtime_error(db.error().message);
    if (auto r = (*db)->exec(text); !r) throw std::runtime_error(r.error().message);
  }
  std::string server_, name_, url_;
};

/// Whether the durable tests run on PostgreSQL (COWORKER_TEST_STORE=postgresql: ctest's
/// engine_tests_postgresql, tests/CMakeLists.txt) rather than on SQLite files.
inline bool stores_on_postgresql() {
  const char* s = std::getenv("COWORKER_TEST_STORE");
  return s && std::string(s) == "postgresql";
}

/// Where a durable test keeps its store: the SQLite `file`, or a fresh PostgreSQL database (kept
/// until the test program ends) when stores_on_postgresql().
inline std::string store_at(const std::string& file) {
  if (!stores_on_postgresql()) return file;
  static std::mutex mu;
  static std::vector<std::unique_ptr<postgres_database>> kept;
  std::lock_guard lock(mu);
  kept.push_back(std::make_unique<postgres_database>());
  return kept.back()->url();
}

}  // namespace coworker::test

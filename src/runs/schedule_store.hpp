// Schedules in the SQLite file (docs/store.md, "Schedules"): each definition, its last fire time and
// the run that fire started, so a restart neither fires twice nor forgets a schedule.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/json.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace coworker {

struct stored_schedule {
  json definition;
  std::int64_t last_fire = 0;
  std::string last_run_id;
};

class schedule_store {
 public:
  static expected<std::unique_ptr<schedule_store>> open(const std::string& path);
  ~schedule_store();
  schedule_store(const schedule_store&) = delete;
  schedule_store& operator=(const schedule_store&) = delete;

  expected<std::vector<stored_schedule>> load();
  /// Adds or replaces a definition (what it fired so far stays).
  expected<void> put(const std::string& name, const json& definition);
  expected<void> fired(const std::string& name, std::int64_t time, const std::string& run_id);
  expected<void> remove(const std::string& name);

 private:
  schedule_store(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  expected<void> run(const char* sql, const std::function<void(sqlite3_stmt*)>& bind, const char* what);
  sqlite3* db_;
  std::string path_;
  std::mutex mu_;
};

}  // namespace coworker

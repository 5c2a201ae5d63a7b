// Schedules in the store, SQLite file or PostgreSQL (docs/store.md, "Schedules"): each definition, its last fire time and
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

namespace coworker {

namespace store::sql {
class database;
class query;
}

struct stored_schedule {
  json definition;
  std::int64_t last_fire = 0;
  std::string last_run_id;
};

class schedule_store {
 public:
  /// Opens its own connection to the store at `location` (a file or a postgresql:// URL).
  static expected<std::unique_ptr<schedule_store>> open(const std::string& location);
  ~schedule_store();
  schedule_store(const schedule_store&) = delete;
  schedule_store& operator=(const schedule_store&) = delete;

  expected<std::vector<stored_schedule>> load();
  /// Adds or replaces a definition (what it fired so far stays).
  expected<void> put(const std::string& name, const json& definition);
  expected<void> fired(const std::string& name, std::int64_t time, const std::string& run_id);
  /// Claims the fire at `time` of schedule `name` as `definition` says it: true for the one engine
  /// whose compare-and-set on the last fire time wins (docs/cluster.md, "Schedules"); false when
  /// another node fired it, or the schedule was changed or deleted since this engine read it.
  expected<bool> claim(const std::string& name, const json& definition, std::int64_t time);
  expected<void> remove(const std::string& name);

 private:
  explicit schedule_store(std::unique_ptr<store::sql::database> db);
  expected<void> run(const char* sql, const std::function<void(store::sql::query&)>& bind, const char* what);
  std::unique_ptr<store::sql::database> db_;
  std::mutex mu_;
};

}  // namespace coworker

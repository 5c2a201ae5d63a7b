// Kept signals in the store, SQLite file or PostgreSQL (docs/store.md, "Signals"): the signal_keeper of a durable engine.
// A signal is stored before the board answers "kept", and an await's taking of it is stored too,
// so neither a kept signal nor one taken by a step that had not ended is lost across a restart.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/signal_board.hpp"

namespace coworker {

namespace store::sql {
class database;
}

class signal_store final : public signal_keeper {
 public:
  /// Opens its own connection to the run store's file (whose tables run_store::open made) or to a
  /// postgresql:// URL (whose tables it makes when missing).
  static expected<std::unique_ptr<signal_store>> open(const std::string& location);
  ~signal_store() override;
  signal_store(const signal_store&) = delete;
  signal_store& operator=(const signal_store&) = delete;

  /// Every row, kept or taken, oldest first.
  expected<std::vector<kept_signal>> load();
  expected<std::uint64_t> keep(const std::string& key, const json& payload, std::int64_t at) override;
  expected<bool> take(std::uint64_t id, const std::string& run_id) override;
  /// Kept signal `id` when it is still kept (not taken, not expired away).
  expected<std::optional<kept_signal>> kept(std::uint64_t id);
  expected<void> drop(const std::vector<std::uint64_t>& ids) override;

 private:
  explicit signal_store(std::unique_ptr<store::sql::database> db);
  std::unique_ptr<store::sql::database> db_;
  std::mutex mu_;
};

}  // namespace coworker

// Schedules (docs/chain-language.md, "Schedules"): named definitions that submit a chain on a cron
// expression in a time zone, or every N ms, and the rules of when each fires — without threads or
// clocks, so they are tested deterministically (tests/unit/lang/schedule_book_test.cpp):
// - a fire is identified by its time: the engine submits it with the idempotency key
//   `schedule:<name>:<fire time>`, so the same fire can never start two chains;
// - overlap: `skip` drops a fire while the run of the last one is still running, `bufferOne` keeps
//   one to start when that run ends, `allow` starts it anyway;
// - fires missed while the engine was down: `catchUp` `none` skips them, `last` fires the latest once;
//   a tick that comes late fires the latest missed time once, never a burst;
// - a paused schedule does not fire (its next time moves on).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/cron.hpp"
#include "coworker/error.hpp"
#include "coworker/json.hpp"

namespace coworker {

enum class overlap_policy { skip, buffer_one, allow };
enum class catch_up_policy { none, last };

struct schedule_def {
  std::string name;
  std::string cron;          ///< empty: every_ms
  std::int64_t every_ms = 0;
  std::string tz = "UTC";
  json chain;
  std::optional<json> input;
  overlap_policy overlap = overlap_policy::skip;
  catch_up_policy catch_up = catch_up_policy::none;
  bool paused = false;
  std::int64_t created = 0;  ///< every_ms fires at created + k × every_ms
};

/// Reads a `schedule` request's fields (not its chain's validity, which the engine checks):
/// invalid_input naming the field (`/cron`, `/tz`, `/everyMs`, `/overlap`, ...).
expected<schedule_def> parse_schedule(const json& request, std::int64_t now);
/// The definition as stored and listed.
json to_json(const schedule_def& d);

/// One fire to start: its schedule and its time (the key's).
struct schedule_fire {
  std::string name;
  std::int64_t time = 0;
};

struct schedule_view {
  const schedule_def* def = nullptr;
  std::int64_t next_fire = 0;  ///< 0: none (paused, or the expression never fires again)
  std::int64_t last_fire = 0;
  std::string last_run_id;
  std::uint64_t skipped = 0;   ///< fires dropped by `overlap: skip` since the engine started
};

class schedule_book {
 public:
  /// Adds or replaces a schedule. `last_fire`, `last_run_id`: what a store kept of it (a restart).
  /// Returns its next fire time (0: paused).
  expected<std::int64_t> put(schedule_def d, std::int64_t now, std::int64_t last_fire = 0, std::string last_run_id = {});
  bool remove(const std::string& name);
  /// Pauses or resumes; false for an unknown name.
  bool set_paused(const std::string& name, bool paused, std::int64_t now);
  const schedule_def* find(const std::string& name) const;

  /// The fires due at `now`, each taken (the next ones computed); `running(run_id)`: is the run
  /// a fire started still running (overlap).
  std::vector<schedule_fire> due(std::int64_t now, const std::function<bool(const std::string&)>& running);
  /// The chain a fire started (its run id), for overlap and the listing.
  void started(const std::string& name, std::int64_t fire_time, const std::string& run_id);
  /// When due() has something next: the earliest fire (or a buffered one's check); nullopt: nothing.
  std::optional<std::int64_t> earliest(std::int64_t now) const;
  std::vector<schedule_view> list() const;
  std::size_t size() const { return entries_.size(); }

 private:
  struct entry {
    schedule_def def;
    std::optional<cron::spec> spec;
    cctz::time_zone zone;
    std::int64_t next_fire = 0;
    std::int64_t last_fire = 0;
    std::string last_run_id;
    std::int64_t buffered = 0;  ///< a fire kept by bufferOne (its time), 0: none
    std::uint64_t skipped = 0;
  };
  std::optional<std::int64_t> next_after(const entry& e, std::int64_t t) const;
  std::map<std::string, entry> entries_;
};

}  // namespace coworker

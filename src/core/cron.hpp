// Cron expressions and time zones for schedules (docs/chain-language.md, "Schedules"): five fields
// (minute hour day-of-month month day-of-week) with `*`, lists, ranges, steps and names, or a macro
// (@hourly, @daily, @weekly, @monthly, @yearly); next fire times in an IANA zone (CCTZ reads Debian's
// tzdata). Across a DST change, a local time that does not exist fires when the gap ends, and one
// that happens twice fires once, the first time.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <cctz/time_zone.h>

#include "coworker/error.hpp"

namespace coworker::cron {

struct spec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days;      ///< 1..31
  std::bitset<13> months;    ///< 1..12
  std::bitset<7> weekdays;   ///< 0 = Sunday
  bool any_day = true;       ///< day-of-month was `*`
  bool any_weekday = true;   ///< day-of-week was `*`
};

/// Parses an expression; invalid_input at `where` naming the field that is wrong.
expected<spec> parse(std::string_view text, const std::string& where);

/// Loads an IANA zone ("Europe/Berlin", "UTC"); invalid_input at `where` for an unknown name.
expected<cctz::time_zone> load_zone(const std::string& name, const std::string& where);

/// The first fire time strictly after `after_ms` (ms since the epoch), none within 5 years: nullopt
/// (an expression such as `0 0 30 2 *` never fires).
std::optional<std::int64_t> next_after(const spec& s, const cctz::time_zone& tz, std::int64_t after_ms);

}  // namespace coworker::cron

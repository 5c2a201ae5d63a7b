// cron: parsing five fields and finding the next fire time in a zone (cron.hpp).
#include "core/cron.hpp"

#include <array>
#include <cctype>
#include <chrono>
#include <vector>

#include <cctz/civil_time.h>

namespace coworker::cron {

namespace {

struct field_def {
  const char* name;
  int min, max;
  const char* const* names;  ///< names for min.. (months from 1, weekdays from 0), or null
};

constexpr const char* month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", nullptr};
constexpr const char* day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", nullptr};

constexpr std::array<field_def, 5> fields{{{"minute", 0, 59, nullptr},
                                           {"hour", 0, 23, nullptr},
                                           {"day-of-month", 1, 31, nullptr},
                                           {"month", 1, 12, month_names},
                                           {"day-of-week", 0, 7, day_names}}};

std::optional<int> number(std::string_view t, const field_def& f) {
  if (t.empty()) return std::nullopt;
  if (f.names && std::isalpha(static_cast<unsigned char>(t[0]))) {
    if (t.size() != 3) return std::nullopt;
    for (int i = 0; f.names[i]; ++i) {
      bool same = true;
      for (int k = 0; k < 3; ++k) same = same && std::tolower(static_cast<unsigned char>(t[k])) == f.names[i][k];
      if (same) return f.min + i;
    }
    return std::nullopt;
  }
  int v = 0;
  for (char c : t) {
    if (!std::isdigit(static_cast<unsigned char>(c)) || v > 1000) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (true) {
    auto next = s.find(sep, at);
    out.push_back(s.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
    if (next == std::string_view::npos) return out;
    at = next + 1;
  }
}

/// One field into `bits` (indexed by value); `any` set when it is `*`.
expected<void> parse_field(std::string_view text, const field_def& f, std::vector<bool>& bits, bool& any,
                           const std::string& where) {
  auto bad = [&](const std::string& why) {
    return make_error(codes::invalid_input, std::string("the ") + f.name + " field '" + std::string(text) + "' " + why, where);
  };
  any = text == "*";
  for (auto item : split(text, ',')) {
    int step = 1;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
      auto st = number(item.substr(slash + 1), field_def{f.name, 1, 1000, nullptr});
      if (!st || *st < 1) return bad("has a step that is not a positive number");
      step = *st;
      item = item.substr(0, slash);
      any = false;
    }
    int lo = f.min, hi = f.max == 7 ? 6 : f.max;
    if (item != "*") {
      auto dash = item.find('-');
      auto a = number(item.substr(0, dash), f);
      if (!a) return bad("is not a number or name of " + std::to_string(f.min) + "-" + std::to_string(f.max));
      lo = hi = *a;
      if (dash != std::string_view::npos) {
        auto b = number(item.substr(dash + 1), f);
        if (!b) return bad("has a range end that is not a number or name");
        hi = *b;
      } else if (step > 1) {
        hi = f.max == 7 ? 6 : f.max;  // `a/step`: from a to the end
      }
      if (lo < f.min || hi > f.max || lo > hi)
        return bad("is out of range " + std::to_string(f.min) + "-" + std::to_string(f.max));
    }
    for (int v = lo; v <= hi; v += step) bits[static_cast<std::size_t>(f.max == 7 && v == 7 ? 0 : v)] = true;
  }
  return {};
}

std::string_view expand_macro(std::string_view t) {
  if (t == "@yearly" || t == "@annually") return "0 0 1 1 *";
  if (t == "@monthly") return "0 0 1 * *";
  if (t == "@weekly") return "0 0 * * 0";
  if (t == "@daily" || t == "@midnight") return "0 0 * * *";
  if (t == "@hourly") return "0 * * * *";
  return t;
}

int cron_weekday(cctz::weekday w) {
  switch (w) {
    case cctz::weekday::sunday: return 0;
    case cctz::weekday::monday: return 1;
    case cctz::weekday::tuesday: return 2;
    case cctz::weekday::wednesday: return 3;
    case cctz::weekday::thursday: return 4;
    case cctz::weekday::friday: return 5;
    case cctz::weekday::saturday: return 6;
  }
  return 0;
}

bool day_matches(const spec& s, const cctz::civil_day& d) {
  const bool dom = s.days[static_cast<std::size_t>(d.day())];
  const bool dow = s.weekdays[static_cast<std::size_t>(cron_weekday(cctz::get_weekday(d)))];
  if (!s.any_day && !s.any_weekday) return dom || dow;  // both restricted: either (as cron does)
  if (!s.any_day) return dom;
  if (!s.any_weekday) return dow;
  return true;
}

using sys_ms = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

}  // namespace

expected<spec> parse(std::string_view text, const std::string& where) {
  auto expanded = expand_macro(text);
  std::vector<std::string_view> parts;
  for (auto p : split(expanded, ' '))
    if (!p.empty()) parts.push_back(p);
  if (parts.size() != 5)
    return make_error(codes::invalid_input,
                      "a cron expression has five fields (minute hour day-of-month month day-of-week) or is a macro "
                      "such as @hourly, got '" + std::string(text.substr(0, 100)) + "'",
                      where);
  spec s;
  std::array<std::vector<bool>, 5> bits{std::vector<bool>(60), std::vector<bool>(24), std::vector<bool>(32),
                                        std::vector<bool>(13), std::vector<bool>(8)};
  std::array<bool, 5> any{};
  for (std::size_t i = 0; i < 5; ++i)
    if (auto r = parse_field(parts[i], fields[i], bits[i], any[i], where); !r) return r.error();
  for (std::size_t v = 0; v < 60; ++v) s.minutes[v] = bits[0][v];
  for (std::size_t v = 0; v < 24; ++v) s.hours[v] = bits[1][v];
  for (std::size_t v = 0; v < 32; ++v) s.days[v] = bits[2][v];
  for (std::size_t v = 0; v < 13; ++v) s.months[v] = bits[3][v];
  for (std::size_t v = 0; v < 7; ++v) s.weekdays[v] = bits[4][v];
  s.any_day = any[2];
  s.any_weekday = any[4];
  return s;
}

expected<cctz::time_zone> load_zone(const std::string& name, const std::string& where) {
  cctz::time_zone tz;
  if (name.empty() || name.size() > 64 || name.find("..") != std::string::npos || !cctz::load_time_zone(name, &tz))
    return make_error(codes::invalid_input, "unknown time zone '" + name.substr(0, 64) + "' (an IANA name such as Europe/Berlin, or UTC)", where);
  return tz;
}

std::optional<std::int64_t> next_after(const spec& s, const cctz::time_zone& tz, std::int64_t after_ms) {
  const auto after = sys_ms(std::chrono::milliseconds(after_ms));
  const auto start = cctz::convert(std::chrono::time_point_cast<std::chrono::seconds>(after), tz);
  auto c = cctz::civil_minute(start) + 1;
  const auto last_year = start.year() + 5;
  // Each step moves to the next month, day, hour or minute that can match: a few thousand at most.
  for (int guard = 0; guard < 1'000'000 && c.year() <= last_year; ++guard) {
    if (!s.months[static_cast<std::size_t>(c.month())]) {
      c = cctz::civil_minute(cctz::civil_month(c) + 1);
      continue;
    }
    if (!day_matches(s, cctz::civil_day(c))) {
      c = cctz::civil_minute(cctz::civil_day(c) + 1);
      continue;
    }
    if (!s.hours[static_cast<std::size_t>(c.hour())]) {
      c = cctz::civil_minute(cctz::civil_hour(c) + 1);
      continue;
    }
    if (!s.minutes[static_cast<std::size_t>(c.minute())]) {
      c += 1;
      continue;
    }
    const auto found = tz.lookup(cctz::civil_second(c));
    // Skipped by a DST change: when the gap ends. Repeated: the first time only.
    const auto tp = found.kind == cctz::time_zone::civil_lookup::SKIPPED ? found.trans : found.pre;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
    if (ms <= after_ms) {
      c += 1;
      continue;
    }
    return ms;
  }
  return std::nullopt;
}

}  // namespace coworker::cron

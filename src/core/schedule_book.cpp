// schedule_book: reading schedule definitions and deciding when they fire (schedule_book.hpp).
#include "core/schedule_book.hpp"

#include <algorithm>
#include <cctype>

namespace coworker {

namespace {

/// A fire time's `every_ms` slot after `t`: created + k × every, k ≥ 1.
std::int64_t every_after(std::int64_t created, std::int64_t every, std::int64_t t) {
  if (t < created) return created + every;
  return created + ((t - created) / every + 1) * every;
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 128) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

constexpr std::int64_t min_every_ms = 100;
constexpr std::int64_t max_every_ms = 365LL * 24 * 3600 * 1000;

}  // namespace

expected<schedule_def> parse_schedule(const json& r, std::int64_t now) {
  auto bad = [](const std::string& path, const std::string& why) { return make_error(codes::invalid_input, why, path); };
  schedule_def d;
  auto name = r.find("name");
  if (name == r.end() || !name->is_string() || !valid_name(name->get<std::string>()))
    return bad("/name", "a schedule needs a \"name\": 1 to 128 letters, digits, '_', '-' or '.'");
  d.name = name->get<std::string>();
  auto cron = r.find("cron");
  auto every = r.find("everyMs");
  const bool has_cron = cron != r.end() && !cron->is_null(), has_every = every != r.end() && !every->is_null();
  if (has_cron == has_every) return bad(has_cron ? "/everyMs" : "/cron", "a schedule has either \"cron\" or \"everyMs\"");
  if (has_cron) {
    if (!cron->is_string()) return bad("/cron", "\"cron\" is a string such as \"*/5 * * * *\"");
    d.cron = cron->get<std::string>();
    if (auto s = cron::parse(d.cron, "/cron"); !s) return s.error();
  } else {
    if (!every->is_number_integer() || every->get<std::int64_t>() < min_every_ms || every->get<std::int64_t>() > max_every_ms)
      return bad("/everyMs", "\"everyMs\" is a whole number of milliseconds from 100 to a year");
    d.every_ms = every->get<std::int64_t>();
  }
  if (auto tz = r.find("tz"); tz != r.end() && !tz->is_null()) {
    if (!tz->is_string()) return bad("/tz", "\"tz\" is an IANA time zone name such as \"Europe/Berlin\"");
    d.tz = tz->get<std::string>();
  }
  if (auto z = cron::load_zone(d.tz, "/tz"); !z) return z.error();
  auto chain = r.find("chain");
  if (chain == r.end() || !chain->is_object()) return make_error(codes::invalid_chain, "\"chain\" must be a chain object", "/chain");
  d.chain = *chain;
  if (auto in = r.find("input"); in != r.end()) d.input = *in;
  if (auto o = r.find("overlap"); o != r.end() && !o->is_null()) {
    if (*o == "skip") d.overlap = overlap_policy::skip;
    else if (*o == "bufferOne") d.overlap = overlap_policy::buffer_one;
    else if (*o == "allow") d.overlap = overlap_policy::allow;
    else return bad("/overlap", "\"overlap\" is \"skip\", \"bufferOne\" or \"allow\"");
  }
  if (auto c = r.find("catchUp"); c != r.end() && !c->is_null()) {
    if (*c == "none") d.catch_up = catch_up_policy::none;
    else if (*c == "last") d.catch_up = catch_up_policy::last;
    else return bad("/catchUp", "\"catchUp\" is \"none\" or \"last\"");
  }
  if (auto p = r.find("paused"); p != r.end() && !p->is_null()) {
    if (!p->is_boolean()) return bad("/paused", "\"paused\" is true or false");
    d.paused = p->get<bool>();
  }
  d.created = now;
  if (auto c = r.find("created"); c != r.end() && c->is_number_integer()) d.created = c->get<std::int64_t>();  // as stored
  return d;
}

json to_json(const schedule_def& d) {
  json j{{"name", d.name}, {"tz", d.tz}, {"chain", d.chain}, {"created", d.created}, {"paused", d.paused}};
  if (!d.cron.empty()) j["cron"] = d.cron;
  else j["everyMs"] = d.every_ms;
  if (d.input) j["input"] = *d.input;
  j["overlap"] = d.overlap == overlap_policy::skip ? "skip" : d.overlap == overlap_policy::buffer_one ? "bufferOne" : "allow";
  j["catchUp"] = d.catch_up == catch_up_policy::none ? "none" : "last";
  return j;
}

std::optional<std::int64_t> schedule_book::next_after(const entry& e, std::int64_t t) const {
  if (e.spec) return cron::next_after(*e.spec, e.zone, t);
  return every_after(e.def.created, e.def.every_ms, t);
}

expected<std::int64_t> schedule_book::put(schedule_def d, std::int64_t now, std::int64_t last_fire, std::string last_run_id) {
  entry e;
  if (!d.cron.empty()) {
    auto s = cron::parse(d.cron, "/cron");
    if (!s) return s.error();
    e.spec = *s;
  }
  auto z = cron::load_zone(d.tz, "/tz");
  if (!z) return z.error();
  e.zone = *z;
  if (auto old = entries_.find(d.name); old != entries_.end() && last_fire == 0) {
    // A definition replaced keeps what it did: its last fire and run (overlap, the listing).
    last_fire = old->second.last_fire;
    last_run_id = old->second.last_run_id;
    e.skipped = old->second.skipped;
  }
  e.def = std::move(d);
  e.last_fire = last_fire;
  e.last_run_id = std::move(last_run_id);
  if (!e.def.paused) {
    auto next = next_after(e, last_fire ? last_fire : now);
    if (last_fire && next && *next <= now) {
      // Missed while the engine was down.
      if (e.def.catch_up == catch_up_policy::last) {
        for (int guard = 0; guard < 1'000'000; ++guard) {
          auto after = next_after(e, *next);
          if (!after || *after > now) break;
          next = after;
        }
      } else {
        next = next_after(e, now);
      }
    }
    e.next_fire = next.value_or(0);
  }
  const auto at = e.next_fire;
  entries_[e.def.name] = std::move(e);
  return at;
}

bool schedule_book::remove(const std::string& name) { return entries_.erase(name) > 0; }

bool schedule_book::set_paused(const std::string& name, bool paused, std::int64_t now) {
  auto it = entries_.find(name);
  if (it == entries_.end()) return false;
  auto& e = it->second;
  e.def.paused = paused;
  e.buffered = 0;
  e.next_fire = paused ? 0 : next_after(e, now).value_or(0);
  return true;
}

const schedule_def* schedule_book::find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second.def;
}

std::vector<schedule_fire> schedule_book::due(std::int64_t now, const std::function<bool(const std::string&)>& running) {
  std::vector<schedule_fire> fires;
  for (auto& [name, e] : entries_) {
    if (e.def.paused) continue;
    const bool busy = !e.last_run_id.empty() && running && running(e.last_run_id);
    if (e.buffered && !busy) {
      fires.push_back({name, e.buffered});
      e.buffered = 0;
      continue;  // the run it starts is the one a fire due now would overlap
    }
    if (!e.next_fire || e.next_fire > now) continue;
    // The latest time due: a tick that comes late fires once, not a burst.
    auto t = e.next_fire;
    for (int guard = 0; guard < 1'000'000; ++guard) {
      auto after = next_after(e, t);
      if (!after || *after > now) break;
      t = *after;
    }
    e.next_fire = next_after(e, t).value_or(0);
    if (busy) {
      switch (e.def.overlap) {
        case overlap_policy::skip: ++e.skipped; continue;
        case overlap_policy::buffer_one: e.buffered = t; continue;
        case overlap_policy::allow: break;
      }
    }
    fires.push_back({name, t});
  }
  return fires;
}

void schedule_book::started(const std::string& name, std::int64_t fire_time, const std::string& run_id) {
  auto it = entries_.find(name);
  if (it == entries_.end()) return;
  it->second.last_fire = std::max(it->second.last_fire, fire_time);
  it->second.last_run_id = run_id;
}

std::optional<std::int64_t> schedule_book::earliest(std::int64_t now) const {
  std::optional<std::int64_t> at;
  for (const auto& [name, e] : entries_) {
    if (e.def.paused) continue;
    if (e.buffered) at = std::min(at.value_or(now + 250), now + 250);  // look again for the run's end
    if (e.next_fire) at = std::min(at.value_or(e.next_fire), e.next_fire);
  }
  return at;
}

std::vector<schedule_view> schedule_book::list() const {
  std::vector<schedule_view> out;
  for (const auto& [name, e] : entries_) out.push_back({&e.def, e.next_fire, e.last_fire, e.last_run_id, e.skipped});
  return out;
}

}  // namespace coworker

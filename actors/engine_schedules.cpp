// Schedules in the engine (docs/chain-language.md, "Schedules"): the book (src/core/schedule_book.hpp)
// decides when each fires; here a timer wakes the blocking pool at the earliest fire, the fires are
// submitted with the idempotency key `schedule:<name>:<fire time>` and stored as fired. In a cluster a
// schedule written through one node reaches the others by node mail (docs/cluster.md, "Schedules").
#include <algorithm>

#include "engine_impl.hpp"

namespace coworker {

namespace {

/// A timer never sleeps longer than this: a clock that jumps is noticed within a minute.
constexpr std::int64_t longest_schedule_sleep_ms = 60'000;

json no_time(std::int64_t t) { return t ? json(t) : json(nullptr); }

}  // namespace

void engine::impl::open_schedules() {
  if (runs && !startup_error) {
    auto opened = schedule_store::open(cfg.db_path);
    if (!opened) {
      startup_error = opened.error();
      return;
    }
    schedule_rows = std::move(*opened);
    auto rows = schedule_rows->load();
    if (!rows) {
      cfg.log_sink("error", rows.error().message);
      return;
    }
    std::lock_guard lock(schedule_mu);
    const auto now = now_ms();
    for (auto& r : *rows) {
      auto def = parse_schedule(r.definition, now);
      auto at = def ? schedules.put(std::move(*def), now, r.last_fire, r.last_run_id) : expected<std::int64_t>(def.error());
      if (!at) cfg.log_sink("error", "a stored schedule cannot be read back: " + at.error().message);
    }
  }
  std::lock_guard lock(schedule_mu);
  arm_schedules_locked();
}

void engine::impl::arm_schedules_locked() {
  if (stopping) return;
  const auto now = now_ms();
  auto at = schedules.earliest(now);
  if (!at) return;
  const auto when = std::min(std::max(*at, now), now + longest_schedule_sleep_ms);
  if (schedule_timer && schedule_timer_at <= when) return;  // an earlier wake is armed
  if (schedule_timer) timers->cancel(schedule_timer);
  schedule_timer_at = when;
  // The fires are submitted on the blocking pool: a durable submit waits for its commit.
  schedule_timer = timers->after(std::chrono::milliseconds(when - now), [this] {
    // Under the lock the destructor takes to stop: once it is set, the pool may be gone.
    std::lock_guard lock(schedule_mu);
    if (!stopping) blocking->post([this] { fire_schedules(); });
  });
}

void engine::impl::fire_schedules() {
  struct to_start {
    schedule_fire fire;
    json chain;
    std::optional<json> input;
    json definition;  // as stored: what a claim compares
  };
  std::vector<to_start> work;
  {
    std::lock_guard lock(schedule_mu);
    if (stopping) return;
    schedule_timer = 0;
    auto running = [this](const std::string& id) {
      auto r = registry->get(id);
      return r && !is_final(r->status);
    };
    for (auto& f : schedules.due(now_ms(), running)) {
      const auto* d = schedules.find(f.name);
      if (d) work.push_back({std::move(f), d->chain, d->input, to_json(*d)});
    }
  }
  for (auto& w : work) {
    // Every node of a cluster holds the schedules; the one whose claim wins fires (at most once:
    // a node that dies between its claim and its commit loses that fire).
    if (schedule_rows) {
      auto claimed = schedule_rows->claim(w.fire.name, w.definition, w.fire.time);
      if (!claimed) cfg.log_sink("error", claimed.error().message);
      if (!claimed || !*claimed) {
        std::lock_guard lock(schedule_mu);
        schedules.started(w.fire.name, w.fire.time, "");
        continue;
      }
    }
    submit_options o;
    // One fire, one chain: across restarts (and, later, nodes) the key makes a second submit of
    // the same fire return the first one's run.
    o.key = "schedule:" + w.fire.name + ":" + std::to_string(w.fire.time);
    o.input = w.input;
    bool created = false;
    auto id = start(chain::compile_chain(w.chain, compile_opts()), &w.chain, o, created);
    if (id && runs) registry->wait_durable(*id);
    if (!id) {
      cfg.log_sink("warn", "schedule '" + w.fire.name + "' could not start its chain: " + id.error().code + ": " +
                               id.error().message);
      continue;
    }
    {
      std::lock_guard lock(schedule_mu);
      schedules.started(w.fire.name, w.fire.time, *id);
    }
    if (schedule_rows)
      if (auto r = schedule_rows->fired(w.fire.name, w.fire.time, *id); !r) cfg.log_sink("error", r.error().message);
  }
  std::lock_guard lock(schedule_mu);
  arm_schedules_locked();
}

expected<json> engine::schedule(const json& request) {
  auto& m = *impl_;
  if (!request.is_object()) return make_error(codes::invalid_input, "a schedule is an object");
  const auto now = now_ms();
  // {"name", "paused"} alone pauses or resumes a schedule.
  const bool toggle = request.contains("paused") && !request.contains("chain") && !request.contains("cron") &&
                      !request.contains("everyMs");
  if (toggle) {
    if (!request["paused"].is_boolean()) return make_error(codes::invalid_input, "\"paused\" is true or false", "/paused");
    auto n = request.find("name");
    if (n == request.end() || !n->is_string()) return make_error(codes::invalid_input, "\"name\" is the schedule's name", "/name");
    const auto name = n->get<std::string>();
    std::lock_guard lock(m.schedule_mu);
    if (!m.schedules.set_paused(name, request["paused"].get<bool>(), now))
      return make_error(codes::not_found, "no schedule '" + name + "'", "/name");
    if (m.schedule_rows)
      if (auto r = m.schedule_rows->put(name, to_json(*m.schedules.find(name))); !r) return r.error();
    m.announce_schedule(name);
    m.arm_schedules_locked();
    for (const auto& v : m.schedules.list())
      if (v.def->name == name) return json{{"name", name}, {"nextFireAt", no_time(v.next_fire)}};
  }
  auto def = parse_schedule(request, now);
  if (!def) return std::move(def).error();
  if (auto errs = validate(def->chain); !errs.empty()) {
    auto e = errs.front();
    e.path = "/chain" + e.path;
    if (errs.size() > 1) e.message += " (and " + std::to_string(errs.size() - 1) + " more errors)";
    return e;
  }
  {
    std::lock_guard lock(m.schedule_mu);
    if (!m.schedules.find(def->name) && m.schedules.size() >= m.cfg.lim.max_schedules)
      return make_error(codes::busy, std::to_string(m.cfg.lim.max_schedules) + " schedules exist already (limits.schedules)");
  }
  // Stored before it is answered: a schedule acknowledged survives a restart.
  if (m.schedule_rows)
    if (auto r = m.schedule_rows->put(def->name, to_json(*def)); !r) return make_error(codes::unavailable, r.error().message);
  std::lock_guard lock(m.schedule_mu);
  const auto name = def->name;
  if (!m.schedules.find(name) && m.schedules.size() >= m.cfg.lim.max_schedules)
    return make_error(codes::busy, std::to_string(m.cfg.lim.max_schedules) + " schedules exist already (limits.schedules)");
  auto at = m.schedules.put(std::move(*def), now);
  if (!at) return std::move(at).error();
  m.announce_schedule(name);
  m.arm_schedules_locked();
  return json{{"name", name}, {"nextFireAt", no_time(*at)}};
}

expected<void> engine::unschedule(const std::string& name) {
  auto& m = *impl_;
  std::lock_guard lock(m.schedule_mu);
  if (!m.schedules.remove(name)) return make_error(codes::not_found, "no schedule '" + name + "'", "/name");
  if (m.schedule_rows)
    if (auto r = m.schedule_rows->remove(name); !r) return r.error();
  m.announce_schedule(name);
  return {};
}

void engine::impl::announce_schedule(const std::string& name) {
  if (!mail) return;
  if (auto r = mail->send(cluster::node_mail::everyone, json{{"schedule", name}}); !r)
    cfg.log_sink("warn", "schedule '" + name + "' changed here; the other nodes see it at their next start: " +
                             r.error().message);
}

void engine::impl::reload_schedule(const std::string& name) {
  if (!schedule_rows) return;
  auto rows = schedule_rows->load();
  if (!rows) {
    cfg.log_sink("error", "schedule '" + name + "' changed on another node and cannot be read: " + rows.error().message);
    return;
  }
  const auto now = now_ms();
  std::lock_guard lock(schedule_mu);
  if (stopping) return;
  auto row = std::find_if(rows->begin(), rows->end(), [&](const stored_schedule& r) {
    auto n = r.definition.is_object() ? r.definition.find("name") : r.definition.end();
    return n != r.definition.end() && n->is_string() && n->get_ref<const std::string&>() == name;
  });
  if (row == rows->end()) {
    schedules.remove(name);
    return;
  }
  auto def = parse_schedule(row->definition, now);
  auto at = def ? schedules.put(std::move(*def), now, row->last_fire, row->last_run_id)
                : expected<std::int64_t>(def.error());
  if (!at) cfg.log_sink("error", "schedule '" + name + "' from another node cannot be read: " + at.error().message);
  arm_schedules_locked();
}

json engine::schedules() const {
  auto& m = *impl_;
  json out = json::array();
  std::lock_guard lock(m.schedule_mu);
  for (const auto& v : m.schedules.list()) {
    auto j = to_json(*v.def);
    j["nextFireAt"] = no_time(v.next_fire);
    j["lastFireAt"] = no_time(v.last_fire);
    j["lastRunId"] = v.last_run_id.empty() ? json(nullptr) : json(v.last_run_id);
    j["skipped"] = v.skipped;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace coworker

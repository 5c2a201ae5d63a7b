// run_metrics: counting and the text exposition format.
#include "core/metrics.hpp"

#include <charconv>

namespace coworker {

namespace {

std::string number(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, const std::string& name, const std::string& labels, const std::string& value) {
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += ' ';
  out += value;
  out += '\n';
}

void histogram(std::string& out, const std::string& name, const std::string& labels, const histogram_data& h) {
  const std::string sep = labels.empty() ? "" : labels + ",";
  for (std::size_t i = 0; i < h.cumulative.size(); ++i) {
    auto le = i < h.bounds.size() ? number(h.bounds[i]) : std::string("+Inf");
    sample(out, name + "_bucket", sep + "le=\"" + le + "\"", std::to_string(h.cumulative[i]));
  }
  sample(out, name + "_sum", labels, number(h.sum_seconds));
  sample(out, name + "_count", labels, std::to_string(h.count));
}

}  // namespace

std::string prometheus_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void run_metrics::on_event(const event& e) {
  if (!e.run) return;
  const auto& r = *e.run;
  std::lock_guard lock(mu_);
  ++events_;
  auto it = ops_.find(r.operation);
  if (it == ops_.end()) it = ops_.emplace(r.operation, op_counters{}).first;
  auto& c = it->second;
  if (e.kind == event_kind::before_run) {
    ++c.started;
    ++in_flight_;
    return;
  }
  if (e.kind == event_kind::update_run) return;  // still in flight (an await waiting)
  switch (r.status) {
    case run_status::completed: ++c.completed; break;
    case run_status::failed:
      ++c.failed;
      if (r.recovered) ++c.recovered;
      break;
    case run_status::cancelled: ++c.cancelled; break;
    case run_status::skipped: ++c.skipped; break;
    default: break;
  }
  if (r.started > 0) {  // it had a before:run
    --in_flight_;
    if (r.finished >= r.started) c.duration->observe(std::chrono::milliseconds(r.finished - r.started));
  }
}

std::uint64_t run_metrics::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

std::string run_metrics::render(const metrics_gauges& g) const {
  std::string out;
  struct row {
    std::string label;
    std::uint64_t started, completed, failed, recovered, cancelled, skipped;
    histogram_data duration;
  };
  std::vector<row> rows;
  std::uint64_t events;
  std::int64_t in_flight;
  {
    std::lock_guard lock(mu_);
    for (const auto& [op, c] : ops_)
      rows.push_back(row{"operation=\"" + prometheus_label(op) + "\"", c.started, c.completed, c.failed, c.recovered,
                         c.cancelled, c.skipped, c.duration->read()});
    events = events_;
    in_flight = in_flight_;
  }
  auto counter = [&](const char* name, const char* help, std::uint64_t row::*field) {
    family(out, name, "counter", help);
    for (const auto& r : rows) sample(out, name, r.label, std::to_string(r.*field));
  };
  counter("coworker_runs_started_total", "Runs that started (before:run), by operation.", &row::started);
  counter("coworker_runs_completed_total", "Runs that ended completed, by operation.", &row::completed);
  counter("coworker_runs_failed_total", "Runs that ended failed (recovered ones included), by operation.", &row::failed);
  counter("coworker_runs_recovered_total", "Failed runs whose onError recovered them, by operation.", &row::recovered);
  counter("coworker_runs_cancelled_total", "Runs that ended cancelled, by operation.", &row::cancelled);
  counter("coworker_runs_skipped_total", "Runs skipped by a false condition, by operation.", &row::skipped);
  family(out, "coworker_step_duration_seconds", "histogram",
         "Time from a run's start to its end (millisecond clock), by operation.");
  for (const auto& r : rows) histogram(out, "coworker_step_duration_seconds", r.label, r.duration);

  family(out, "coworker_runs_in_flight", "gauge", "Runs started and not ended yet (seen since the HTTP endpoint started).");
  sample(out, "coworker_runs_in_flight", "", std::to_string(in_flight < 0 ? 0 : in_flight));
  family(out, "coworker_chains_in_flight", "gauge", "Top-level chains accepted and not ended yet.");
  sample(out, "coworker_chains_in_flight", "", std::to_string(g.active_chains));
  family(out, "coworker_events_published_total", "counter", "Run events published since the HTTP endpoint started.");
  sample(out, "coworker_events_published_total", "", std::to_string(events));
  family(out, "coworker_event_seq", "gauge", "The seq of the engine's last published (stored) event.");
  sample(out, "coworker_event_seq", "epoch=\"" + prometheus_label(g.epoch) + "\"", std::to_string(g.seq));
  family(out, "coworker_event_subscribers", "gauge", "In-process event subscriptions (engine::subscribe: the HTTP endpoint's metrics, an embedding program's).");
  sample(out, "coworker_event_subscribers", "", std::to_string(g.engine.subscribers));
  family(out, "coworker_http_event_streams", "gauge", "Browsers following /api/events.");
  sample(out, "coworker_http_event_streams", "", std::to_string(g.event_streams));
  family(out, "coworker_store_commit_duration_seconds", "histogram",
         "Durable store transactions (one per batch of events) and their duration.");
  histogram(out, "coworker_store_commit_duration_seconds", "", g.engine.store_commits);
  family(out, "coworker_events_held", "gauge", "Events numbered but not stored yet (not published until they are).");
  sample(out, "coworker_events_held", "", std::to_string(g.engine.seq - g.engine.durable_seq));
  family(out, "coworker_store_writable", "gauge", "1 while the store writes; 0 while it cannot (new chains get unavailable).");
  sample(out, "coworker_store_writable", "", g.engine.store_writable ? "1" : "0");
  if (g.workers) {
    family(out, "coworker_workers", "gauge", "Remote workers connected.");
    sample(out, "coworker_workers", "", std::to_string(g.workers->workers));
    family(out, "coworker_worker_tasks", "gauge", "Tasks held by remote workers (running) or waiting for one (queued).");
    sample(out, "coworker_worker_tasks", "state=\"running\"", std::to_string(g.workers->tasks_running));
    sample(out, "coworker_worker_tasks", "state=\"queued\"", std::to_string(g.workers->tasks_queued));
  }
  return out;
}

}  // namespace coworker

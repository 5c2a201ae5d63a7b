// tree_printer: the live view of `coworker run` (and later `coworker watch`).
#include "tree_view.hpp"

namespace coworker::cli {

namespace {
const char* mark(run_status s) {
  switch (s) {
    case run_status::pending: return "…";
    case run_status::scheduled: return "◷";
    case run_status::running: return "▶";
    case run_status::waiting: return "⏸";
    case run_status::completed: return "✓";
    case run_status::failed: return "✗";
    case run_status::skipped: return "↷";
    case run_status::cancelled: return "⊘";
  }
  return "?";
}
const char* color_of(run_status s) {
  switch (s) {
    case run_status::completed: return "\033[32m";
    case run_status::failed: return "\033[31m";
    case run_status::skipped: return "\033[90m";
    case run_status::cancelled: return "\033[33m";
    default: return "\033[36m";
  }
}
}  // namespace

std::string short_json(const json& v, std::size_t max) {
  auto s = v.is_string() ? v.get<std::string>() : dump(v);
  for (auto& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > max) s = s.substr(0, max - 1) + "…";
  return s;
}

std::string tree_printer::label(const run_record& r) const {
  std::string l = r.step_id.empty() ? r.operation : r.step_id + " (" + r.operation + ")";
  if (!r.doctype.empty()) l += " " + r.doctype;
  return l;
}

void tree_printer::on_event(const event& e) {
  const auto& r = *e.run;
  std::lock_guard lock(mu_);
  int depth = 0;
  if (!r.owner_run_id.empty()) {
    auto it = depth_.find(r.owner_run_id);
    depth = it == depth_.end() ? 1 : it->second + 1;
  }
  if (e.kind == event_kind::before_run) depth_[r.id] = depth;
  std::string line(static_cast<std::size_t>(depth) * 2, ' ');
  if (color_) line += color_of(r.status);
  line += mark(r.status);
  if (color_) line += "\033[0m";
  line += " " + label(r);
  if (e.kind == event_kind::update_run && r.status == run_status::waiting) {
    const auto& in = deref(r.input);
    if (in.is_object() && in.contains("key")) line += "  waiting for signal " + short_json(in["key"]);
    line += "  (" + r.id + ")";
  }
  if (e.kind == event_kind::after_run) {
    if (r.started && r.finished) line += "  " + std::to_string(r.finished - r.started) + " ms";
    if (r.attempts > 1) line += "  attempts " + std::to_string(r.attempts);
    if (r.status == run_status::failed && r.err) line += "  " + r.err->code + ": " + r.err->message;
    if (r.recovered) line += "  (recovered)";
    if (r.status == run_status::completed && r.operation != "run" && r.output) line += "  → " + short_json(*r.output);
    depth_.erase(r.id);
  }
  out_ << line << '\n';
  out_.flush();
}

void tree_printer::summary(const run_record& root) {
  std::lock_guard lock(mu_);
  out_ << "chain " << root.id << " " << to_string(root.status);
  if (root.started && root.finished) out_ << " in " << (root.finished - root.started) << " ms";
  out_ << '\n';
}

}  // namespace coworker::cli

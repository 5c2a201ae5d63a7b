// Shared engine options of the command line.
#include "engine_options.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "store/document_store.hpp"

namespace coworker::cli {

namespace {

/// The engine keys of a config file under the flags (config/coworker.json lists every key).
void apply_engine_keys(const protocol::config_file& c, const engine_args& a, engine_config& cfg) {
  if (!c.db.empty() && a.db.empty() && !a.ephemeral) cfg.db_path = c.db;
  if (c.ephemeral) cfg.db_path.clear();
  if (a.policy.empty() && !c.scheduler_policy.empty()) cfg.scheduler_policy = c.scheduler_policy;
  if (!a.threads && c.threads) cfg.threads = static_cast<std::size_t>(*c.threads);
  const auto& l = c.limits;
  auto apply = [](auto& field, const std::optional<std::int64_t>& v) {
    if (v) field = static_cast<std::remove_reference_t<decltype(field)>>(*v);
  };
  apply(cfg.lim.max_request_bytes, l.request_bytes);
  apply(cfg.lim.max_json_depth, l.json_depth);
  apply(cfg.lim.max_steps, l.steps);
  apply(cfg.lim.max_chain_depth, l.chain_depth);
  apply(cfg.lim.max_value_bytes, l.value_bytes);
  apply(cfg.lim.max_concurrent_runs, l.concurrent_runs);
  apply(cfg.lim.blob_bytes, l.blob_bytes);
  apply(cfg.lim.step_timeout_ms, l.step_timeout_ms);
  apply(cfg.lim.max_chain_elements, l.chain_elements);
  apply(cfg.lim.retained_bytes, l.retained_bytes);
  apply(cfg.lim.signal_keep_ms, l.signal_keep_ms);
  apply(cfg.lim.max_kept_signals, l.kept_signals);
  apply(cfg.lim.max_schedules, l.schedules);
  apply(cfg.lim.max_published_versions, l.published_versions);
  if (c.operations && a.send_to.empty()) cfg.ops_config = *c.operations;
  apply(cfg.retain_chains, c.retain_chains);
  apply(cfg.retain_stored_chains, c.retain_stored_chains);
  apply(cfg.retain_stored_ms, c.retain_stored_ms);
  if (a.doctypes_dir.empty()) cfg.doctypes_dir = c.doctypes;
  if (a.node.empty() && !c.cluster_node.empty()) cfg.cluster_node = c.cluster_node;
  if (c.lease_ms) cfg.lease = std::chrono::milliseconds(*c.lease_ms);
}

}  // namespace

void add_engine_options(CLI::App& cmd, engine_args& a) {
  cmd.add_option("--config", a.config_file, "JSON config file (see config/coworker.json): its db, limits, doctypes, ...");
  cmd.add_option("--db", a.db, "document store file (default: $COWORKER_DB, else ~/.local/share/coworker/coworker.db)");
  cmd.add_flag("--ephemeral", a.ephemeral, "keep nothing on disk: no document store");
  cmd.add_option("--doctypes", a.doctypes_dir, "directory with extra doctype schemas (*.json)");
  cmd.add_option("--send-to", a.send_to, "where `send` delivers: outbox or file:PATH (default: nowhere)");
  cmd.add_option("--threads", a.threads, "scheduler threads (default: the number of cores)");
  cmd.add_option("--otlp", a.otlp, "export every run as a span to this OTLP/HTTP endpoint (http://HOST:4318)");
  cmd.add_option("--node", a.node, "this node's name in a cluster (a postgresql:// store; default: host name and pid)");
  cmd.add_option("--scheduler", a.policy, "scheduler policy: sharing or stealing")
      ->check(CLI::IsMember({"sharing", "stealing"}));
}

expected<std::unique_ptr<otlp_exporter>> start_otlp(engine& eng, const otlp_config& otlp) {
  if (otlp.endpoint.empty()) return std::unique_ptr<otlp_exporter>();
  auto ex = std::make_unique<otlp_exporter>(eng, otlp);
  if (auto r = ex->start(); !r) return r.error();
  return ex;
}

std::string resolve_db_path(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("COWORKER_DB"); env && *env) return env;
  return store::default_db_path();
}

expected<protocol::config_file> read_config_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(codes::invalid_input, "cannot read config file '" + file + "'");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto parsed = protocol::parse_config(text);
  if (!parsed) {
    auto e = parsed.error();
    e.message = file + (e.path.empty() ? "" : " at " + e.path) + ": " + e.message;
    return e;
  }
  return parsed;
}

expected<engine_config> make_engine_config(engine_args a, otlp_config* otlp) {
  std::error_code ec;
  if (!a.config_file.empty() && std::filesystem::is_directory(a.config_file, ec)) {
    std::fprintf(stderr, "coworker: warning: --config takes the JSON config file now; reading the directory %s as "
                         "--doctypes\n", a.config_file.c_str());
    if (a.doctypes_dir.empty()) a.doctypes_dir = a.config_file;
    a.config_file.clear();
  }
  engine_config cfg;
  cfg.threads = a.threads;
  if (!a.policy.empty()) cfg.scheduler_policy = a.policy;
  if (!a.node.empty()) cfg.cluster_node = a.node;
  cfg.doctypes_dir = a.doctypes_dir;
  if (!a.send_to.empty()) cfg.ops_config["send"] = json{{"destination", a.send_to}};
  if (!a.ephemeral) cfg.db_path = resolve_db_path(a.db);
  std::string otlp_endpoint = a.otlp, service_name;
  if (!a.config_file.empty()) {
    auto c = read_config_file(a.config_file);
    if (!c) return c.error();
    apply_engine_keys(*c, a, cfg);
    if (otlp_endpoint.empty()) otlp_endpoint = c->otlp_endpoint;
    service_name = c->otlp_service_name;
  }
  if (otlp && !otlp_endpoint.empty()) {
    otlp->endpoint = otlp_endpoint;
    if (!service_name.empty()) otlp->service_name = service_name;
    cfg.trace_all = true;
  }
  // Only `log` lines of warnings and above reach the terminal; the tree shows the rest.
  cfg.log_sink = [](std::string_view level, std::string_view text) {
    if (level == "info" || level == "debug") return;
    std::fprintf(stderr, "[%.*s] %.*s\n", static_cast<int>(level.size()), level.data(),
                 static_cast<int>(text.size()), text.data());
  };
  return cfg;
}

}  // namespace coworker::cli

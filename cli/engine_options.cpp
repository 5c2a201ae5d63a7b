// Shared engine options of the command line.
#include "engine_options.hpp"

#include <cstdlib>

#include "store/document_store.hpp"

namespace coworker::cli {

void add_engine_options(CLI::App& cmd, engine_args& a) {
  cmd.add_option("--db", a.db, "document store file (default: $COWORKER_DB, else ~/.local/share/coworker/coworker.db)");
  cmd.add_flag("--ephemeral", a.ephemeral, "keep nothing on disk: no document store");
  cmd.add_option("--config", a.config_dir, "directory with extra doctype schemas (*.json)");
  cmd.add_option("--send-to", a.send_to, "where `send` delivers: outbox or file:PATH (default: nowhere)");
  cmd.add_option("--threads", a.threads, "scheduler threads (default: the number of cores)");
  cmd.add_option("--scheduler", a.policy, "scheduler policy: sharing or stealing")
      ->check(CLI::IsMember({"sharing", "stealing"}));
}

std::string resolve_db_path(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("COWORKER_DB"); env && *env) return env;
  return store::default_db_path();
}

expected<engine_config> make_engine_config(const engine_args& a) {
  engine_config cfg;
  cfg.threads = a.threads;
  cfg.scheduler_policy = a.policy;
  cfg.doctypes_dir = a.config_dir;
  if (!a.send_to.empty()) cfg.ops_config["send"] = json{{"destination", a.send_to}};
  if (!a.ephemeral) {
    cfg.db_path = resolve_db_path(a.db);
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

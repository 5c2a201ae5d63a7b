// The options every command that starts an engine shares: store, config, scheduler.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "coworker/engine.hpp"

namespace coworker::cli {

struct engine_args {
  std::string db;          ///< --db PATH (else $COWORKER_DB, else the default file)
  bool ephemeral = false;  ///< --ephemeral: no store file
  std::string config_dir;  ///< --config DIR: extra doctype schemas
  std::string send_to;     ///< --send-to: the send operation's destination
  std::size_t threads = 0;
  std::string policy = "sharing";
};

void add_engine_options(CLI::App& cmd, engine_args& a);
expected<engine_config> make_engine_config(const engine_args& a);
/// --db, else $COWORKER_DB, else the default file (docs/store.md).
std::string resolve_db_path(const std::string& flag);

}  // namespace coworker::cli

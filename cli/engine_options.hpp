// The options every command that starts an engine shares: store, config file, doctypes, scheduler.
// `--config FILE` means the same JSON config file (config/coworker.json) in every command.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "coworker/engine.hpp"
#include "coworker/otlp.hpp"
#include "protocol/config_file.hpp"

namespace coworker::cli {

struct engine_args {
  std::string config_file;   ///< --config FILE: the JSON config file (its engine keys)
  std::string db;            ///< --db PATH (else the config's db, else $COWORKER_DB, else the default file)
  bool ephemeral = false;    ///< --ephemeral: no store file
  std::string doctypes_dir;  ///< --doctypes DIR: extra doctype schemas
  std::string send_to;       ///< --send-to: the send operation's destination
  std::size_t threads = 0;
  std::string policy;        ///< empty: the config's, else "sharing"
  std::string otlp;          ///< --otlp URL: export spans (docs/tracing.md); else the config's otlp.endpoint
  std::string node;          ///< --node NAME: this node's name in a cluster (docs/cluster.md)
};

void add_engine_options(CLI::App& cmd, engine_args& a);
/// The engine's settings: the flags, over the config file's keys (when --config names one), over
/// the defaults. A directory given to --config is read as --doctypes, with a warning (it meant
/// that for `run` before 0.2).
/// With `otlp`: fills the span export's settings (its endpoint empty: no export); a non-empty
/// endpoint turns engine_config::trace_all on.
expected<engine_config> make_engine_config(engine_args a, otlp_config* otlp = nullptr);
/// Starts the span export when its endpoint is set (null otherwise), or says why it cannot.
expected<std::unique_ptr<otlp_exporter>> start_otlp(engine& eng, const otlp_config& otlp);
/// Reads and checks a config file; errors name the file and the JSON Pointer.
expected<protocol::config_file> read_config_file(const std::string& file);
/// --db, else $COWORKER_DB, else the default file (docs/store.md).
std::string resolve_db_path(const std::string& flag);

}  // namespace coworker::cli

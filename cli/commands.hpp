// The `coworker` command line: one file per command, each adding itself to the CLI11 app.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace coworker::cli {

/// Each command sets `run` when it is chosen; main() calls it and exits with what it returns.
struct dispatch {
  std::function<int()> run;
};

void add_validate_command(CLI::App& app, dispatch& d);
void add_run_command(CLI::App& app, dispatch& d);
void add_store_commands(CLI::App& app, dispatch& d);  // import, export, docs
void add_serve_command(CLI::App& app, dispatch& d);
void add_client_commands(CLI::App& app, dispatch& d);  // submit, watch, runs, show, cancel, signal, ...
void add_chain_commands(CLI::App& app, dispatch& d);   // publish, chains
void add_keygen_command(CLI::App& app, dispatch& d);

/// Reads a file, or standard input for "-". Throws std::runtime_error naming the file.
std::string read_input(const std::string& file);

/// The operation names `coworker validate` accepts without a running daemon.
std::vector<std::string> builtin_operation_names();

}  // namespace coworker::cli

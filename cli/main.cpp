// coworker: validate, run, serve and inspect chains. See README.md and docs/cli.md.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "commands.hpp"

namespace coworker::cli {

std::string read_input(const std::string& file) {
  if (file == "-") {
    return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read '" + file + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> builtin_operation_names() {
  return {"create", "delete",    "extract", "interpret", "log",  "message", "run",
          "schema", "select",    "send",    "summarize", "update", "wait"};
}

}  // namespace coworker::cli

int main(int argc, char** argv) {
  CLI::App app{"coworker: an actor-based chain orchestrator"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "coworker 0.1.0");
  coworker::cli::dispatch d;
  coworker::cli::add_validate_command(app, d);
  coworker::cli::add_run_command(app, d);
  coworker::cli::add_store_commands(app, d);
  coworker::cli::add_serve_command(app, d);
  coworker::cli::add_client_commands(app, d);
  coworker::cli::add_chain_commands(app, d);
  coworker::cli::add_keygen_command(app, d);
  CLI11_PARSE(app, argc, argv);
  try {
    return d.run ? d.run() : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "coworker: %s\n", e.what());
    return 2;
  }
}

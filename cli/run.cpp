// `coworker run FILE.json`: runs a chain in process and shows its run tree as it grows.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <mutex>
#include <unordered_map>

#include "commands.hpp"
#include "coworker/coworker.hpp"
#include "engine_options.hpp"
#include "tree_view.hpp"

namespace coworker::cli {

namespace {

struct run_args {
  std::string file;
  std::string input;
  std::string chain_ref;  ///< --chain: a published chain instead of a file
  std::string traceparent;
  bool json_out = false;
  engine_args engine;
};

int run_chain(const run_args& a) {
  if (a.file.empty() == a.chain_ref.empty())
    return std::fprintf(stderr, "coworker run: give a chain FILE or --chain NAME@VERSION (one of them)\n"), 2;
  auto text = a.file.empty() ? std::string() : read_input(a.file);
  otlp_config otlp;
  auto cfg = make_engine_config(a.engine, &otlp);
  if (!cfg) {
    std::fprintf(stderr, "coworker: %s\n", cfg.error().message.c_str());
    return 2;
  }
  coworker::engine eng(std::move(*cfg));
  if (eng.startup_error()) {
    std::fprintf(stderr, "coworker: %s\n", eng.startup_error()->message.c_str());
    return 2;
  }
  auto spans = start_otlp(eng, otlp);  // its end (before the engine's) posts what is left
  if (!spans) return std::fprintf(stderr, "coworker: %s\n", spans.error().message.c_str()), 2;
  auto errors = a.file.empty() ? std::vector<error>{} : eng.validate_text(text);
  if (!errors.empty()) {
    for (const auto& e : errors)
      std::fprintf(stderr, "%s %s: %s\n", e.path.empty() ? "/" : e.path.c_str(), e.code.c_str(), e.message.c_str());
    std::fprintf(stderr, "coworker: %s is not a valid chain (%zu error%s)\n", a.file.c_str(), errors.size(),
                 errors.size() == 1 ? "" : "s");
    return 2;
  }
  submit_options opts;
  opts.traceparent = a.traceparent;
  if (!a.input.empty()) {
    auto in = json::parse(a.input, nullptr, false);
    if (in.is_discarded()) {
      std::fprintf(stderr, "coworker: --input is not valid JSON\n");
      return 2;
    }
    opts.input = std::move(in);
  }

  tree_printer printer(std::cout, isatty(STDOUT_FILENO) != 0);
  subscription sub;
  if (!a.json_out) sub = eng.subscribe([&printer](const event& e) { printer.on_event(e); });

  auto id = a.file.empty() ? eng.submit_ref(a.chain_ref, opts) : eng.submit_text(text, opts);
  if (!id) {
    std::fprintf(stderr, "coworker: %s: %s\n", id.error().code.c_str(), id.error().message.c_str());
    return 2;
  }
  auto done = eng.wait(*id);
  if (!done) {
    std::fprintf(stderr, "coworker: %s\n", done.error().message.c_str());
    return 1;
  }
  sub.reset();  // every event is printed before the summary
  if (a.json_out) {
    std::cout << dump(*eng.tree(*id), 2) << "\n";
  } else {
    printer.summary(*done);
  }
  if (done->status == run_status::completed) return 0;
  const auto& err = done->err;
  std::fprintf(stderr, "coworker: chain %s: %s%s%s\n", std::string(to_string(done->status)).c_str(),
               err ? err->code.c_str() : "", err ? ": " : "", err ? err->message.c_str() : "");
  return 1;
}

}  // namespace

void add_run_command(CLI::App& app, dispatch& d) {
  auto a = std::make_shared<run_args>();
  auto* cmd = app.add_subcommand("run", "Run a chain in process and show its run tree as it runs");
  cmd->add_option("file", a->file, "chain JSON file, or - for standard input");
  cmd->add_option("--chain", a->chain_ref, "instead of a file: a published chain in the store (NAME@VERSION, NAME:ALIAS, NAME)");
  cmd->add_option("--input", a->input, "JSON that replaces the chain's input");
  cmd->add_option("--traceparent", a->traceparent, "join this W3C trace (00-TRACEID-PARENTID-01; docs/tracing.md)");
  cmd->add_flag("--json", a->json_out, "print the final record tree as JSON instead");
  add_engine_options(*cmd, a->engine);
  cmd->callback([a, &d] { d.run = [a] { return run_chain(*a); }; });
}

}  // namespace coworker::cli

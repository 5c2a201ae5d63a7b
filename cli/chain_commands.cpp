// `coworker publish` and `coworker chains` (docs/chain-language.md, "Published chains"): against the
// daemon, or with --db / --local on a store file in process (where `coworker run --chain` reads them).
#include <cstdio>
#include <iostream>

#include "client.hpp"
#include "commands.hpp"
#include "coworker/coworker.hpp"
#include "engine_options.hpp"

namespace coworker::cli {

namespace {

/// Reads a JSON file (a chain, a schema), or says why not.
expected<json> json_file(const std::string& file, const char* what) {
  auto j = json::parse(read_input(file), nullptr, false);
  if (j.is_discarded()) return make_error(codes::bad_json, std::string(what) + " " + file + " is not valid JSON");
  return j;
}

/// The reply the daemon would give, from an engine on the store file.
expected<json> in_process(const client_args& a, const json& req) {
  engine_args e;
  e.db = a.db;
  auto cfg = make_engine_config(e);
  if (!cfg) return cfg.error();
  cfg->auto_resume = false;  // only the definitions are wanted
  engine eng(std::move(*cfg));
  if (eng.startup_error()) return *eng.startup_error();
  if (req["type"] == "chains") return json{{"ok", true}, {"chains", eng.chains()}};
  auto p = eng.publish(req["name"], req["chain"], req.value("inputSchema", json()), req.value("outputSchema", json()));
  if (!p) {
    json err{{"code", p.error().code}, {"message", p.error().message}};
    if (!p.error().path.empty()) err["path"] = p.error().path;
    return json{{"ok", false}, {"error", std::move(err)}};
  }
  return json{{"ok", true}, {"name", p->name}, {"version", p->version}, {"sha256", p->sha256}, {"created", p->created}};
}

expected<json> send(const client_args& a, const json& req) {
  return a.local || !a.db.empty() ? in_process(a, req) : request(a, req, a.timeout_ms);
}

int publish(const client_args& a) {
  json req{{"type", "publish"}, {"name", a.name}};
  for (auto [file, key, what] : {std::tuple{&a.file, "chain", "chain file"}, std::tuple{&a.input_schema, "inputSchema", "schema"},
                                 std::tuple{&a.output_schema, "outputSchema", "schema"}}) {
    if (file->empty()) continue;
    auto j = json_file(*file, what);
    if (!j) return std::fprintf(stderr, "coworker: %s\n", j.error().message.c_str()), 2;
    req[key] = std::move(*j);
  }
  auto r = send(a, req);
  if (int rc = report(r)) return rc;
  std::printf("%s@%d sha256:%s%s\n", (*r)["name"].get<std::string>().c_str(), (*r)["version"].get<int>(),
              (*r)["sha256"].get<std::string>().c_str(), (*r)["created"].get<bool>() ? "" : " (published before)");
  return 0;
}

int chains(const client_args& a) {
  auto r = send(a, json{{"type", "chains"}});
  if (int rc = report(r)) return rc;
  for (const auto& c : (*r)["chains"]) {
    const auto& v = c["versions"];
    std::string aliases;
    for (auto it = c["aliases"].begin(); it != c["aliases"].end(); ++it)
      aliases += (aliases.empty() ? "  " : ", ") + it.key() + "→" + std::to_string(it.value().get<int>());
    std::printf("%-30s  %zu version%s, latest %d (sha256:%.12s…)%s\n", c["name"].get<std::string>().c_str(), v.size(),
                v.size() == 1 ? "" : "s", v.back()["version"].get<int>(), v.back()["sha256"].get<std::string>().c_str(),
                aliases.c_str());
  }
  return 0;
}

void local_options(CLI::App* c, client_args& a) {
  c->add_option("--db", a.db, "work on this store file in process instead of the daemon");
  c->add_flag("--local", a.local, "work on the default store file in process ($COWORKER_DB, else ~/.local/share/coworker/coworker.db)");
}

}  // namespace

void add_chain_commands(CLI::App& app, dispatch& d) {
  auto p = std::make_shared<client_args>();
  auto* c = client_command(app, "publish", "Publish a chain as the next version of NAME (the same content: the same version)", *p);
  c->add_option("file", p->file, "chain JSON file, or -")->required();
  c->add_option("--name", p->name, "the chain's name")->required();
  c->add_option("--input-schema", p->input_schema, "a JSON Schema file its input must fit");
  c->add_option("--output-schema", p->output_schema, "a JSON Schema file of what it outputs");
  local_options(c, *p);
  c->callback([p, &d] { d.run = [p] { return with_keys(*p, publish); }; });

  auto l = std::make_shared<client_args>();
  c = client_command(app, "chains", "List the published chains with their versions and aliases", *l);
  local_options(c, *l);
  c->callback([l, &d] { d.run = [l] { return with_keys(*l, chains); }; });
}

}  // namespace coworker::cli

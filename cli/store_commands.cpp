// `coworker import`, `export` and `docs`: load and look at documents in the store.
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "engine_options.hpp"
#include "store/document_store.hpp"

namespace coworker::cli {

namespace {

struct store_args {
  std::string doctype;
  std::string file;
  std::string db;
  std::string config_file;   ///< --config FILE: its db and doctypes
  std::string doctypes_dir;  ///< --doctypes DIR
  std::string where;
  std::int64_t limit = 50;
};

expected<std::shared_ptr<store::document_store>> open_store(const store_args& a) {
  store::schema_registry schemas;
  engine_args e;
  e.config_file = a.config_file;
  e.db = a.db;
  e.doctypes_dir = a.doctypes_dir;
  auto cfg = make_engine_config(e);
  if (!cfg) return cfg.error();
  for (auto r : {schemas.load_builtin(), schemas.load_dir(cfg->doctypes_dir)})
    if (!r) return r.error();
  return store::document_store::open(cfg->db_path, std::move(schemas));
}

int fail(const error& e) {
  std::fprintf(stderr, "coworker: %s: %s\n", e.code.c_str(), e.message.c_str());
  return 1;
}

int import_docs(const store_args& a) {
  auto text = read_input(a.file);
  auto docs = json::parse(text, nullptr, false);
  if (docs.is_discarded()) return fail(make_error(codes::bad_json, a.file + " is not valid JSON"));
  if (docs.is_object() && docs.contains("data")) docs = docs["data"];
  if (!docs.is_array()) return fail(make_error(codes::invalid_input, a.file + " must hold an array of documents or {data: [...]}"));
  auto s = open_store(a);
  if (!s) return fail(s.error());
  auto created = (*s)->create(a.doctype, docs);  // one operation: all or nothing
  if (!created) return fail(created.error());
  std::printf("imported %zu %s documents into %s\n", (*created)["data"].size(), a.doctype.c_str(), (*s)->path().c_str());
  return 0;
}

int export_docs(const store_args& a) {
  auto s = open_store(a);
  if (!s) return fail(s.error());
  auto all = (*s)->select(a.doctype, json::object());
  if (!all) return fail(all.error());
  std::cout << dump((*all)["data"], 2) << "\n";
  return 0;
}

int list_docs(const store_args& a) {
  auto s = open_store(a);
  if (!s) return fail(s.error());
  json q{{"limit", a.limit}};
  if (!a.where.empty()) {
    auto w = json::parse(a.where, nullptr, false);
    if (w.is_discarded()) return fail(make_error(codes::bad_json, "--where is not valid JSON"));
    q["where"] = w;
  }
  auto found = (*s)->select(a.doctype, q);
  if (!found) return fail(found.error());
  const auto& docs = (*found)["data"];
  for (const auto& d : docs) {
    std::string line = d.value("name", std::string("?"));
    for (auto it = d.begin(); it != d.end(); ++it) {
      if (it.key() == "name" || it.key() == "created" || it.key() == "modified") continue;
      auto v = it.value().is_string() ? it.value().get<std::string>() : dump(it.value());
      if (v.size() > 40) v = v.substr(0, 39) + "…";
      for (auto& c : v)
        if (c == '\n') c = ' ';
      line += "  " + it.key() + "=" + v;
    }
    std::cout << line << "\n";
  }
  std::cout << docs.size() << " " << a.doctype << " document" << (docs.size() == 1 ? "" : "s") << "\n";
  return 0;
}

CLI::App* store_command(CLI::App& app, const char* name, const char* help, store_args& a) {
  auto* cmd = app.add_subcommand(name, help);
  cmd->add_option("doctype", a.doctype, "the doctype, e.g. Email")->required();
  cmd->add_option("--db", a.db, "store file (default: $COWORKER_DB, else ~/.local/share/coworker/coworker.db)");
  cmd->add_option("--config", a.config_file, "JSON config file (see config/coworker.json): its db and doctypes");
  cmd->add_option("--doctypes", a.doctypes_dir, "directory with extra doctype schemas (*.json)");
  return cmd;
}

}  // namespace

void add_store_commands(CLI::App& app, dispatch& d) {
  auto imp = std::make_shared<store_args>();
  auto* c1 = store_command(app, "import", "Import documents (a JSON array) into the store", *imp);
  c1->add_option("file", imp->file, "JSON file, or - for standard input")->required();
  c1->callback([imp, &d] { d.run = [imp] { return import_docs(*imp); }; });

  auto exp = std::make_shared<store_args>();
  auto* c2 = store_command(app, "export", "Print every document of a doctype as JSON", *exp);
  c2->callback([exp, &d] { d.run = [exp] { return export_docs(*exp); }; });

  auto ls = std::make_shared<store_args>();
  auto* c3 = store_command(app, "docs", "List documents of a doctype, one line each", *ls);
  c3->add_option("--where", ls->where, "a where object, e.g. '{\"unread\": true}'");
  c3->add_option("--limit", ls->limit, "at most this many (default 50)");
  c3->callback([ls, &d] { d.run = [ls] { return list_docs(*ls); }; });
}

}  // namespace coworker::cli

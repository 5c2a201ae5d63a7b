// `coworker validate FILE.json`: checks a chain whole (docs/chain-language.md) without running
// anything, and shows its step tree when it is valid.
#include <cstdio>
#include <iostream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "chain/compile.hpp"
#include "commands.hpp"

namespace coworker::cli {

namespace {

struct validate_args {
  std::string file;
  bool json_out = false;
  bool any_operation = false;
  std::vector<std::string> operations;
};

const char* form_label(const chain::step& s) {
  switch (s.kind) {
    case chain::step_kind::operation: return "";
    case chain::step_kind::chain: return "chain";
    case chain::step_kind::parallel: return "parallel";
    case chain::step_kind::for_each: return "forEach";
  }
  return "";
}

std::string step_line(const chain::step& s) {
  std::string line = s.id.empty() ? "" : s.id + ": ";
  if (s.kind == chain::step_kind::operation) {
    line += s.operation;
    if (!s.doctype.empty()) line += " " + s.doctype;
    if (!s.role.empty()) line += " (" + s.role + ")";
  } else {
    line += form_label(s);
    if (s.kind == chain::step_kind::for_each) {
      line += " " + dump(s.for_each.source()) + " as " + s.as;
      if (s.options.concurrency) line += " (concurrency " + std::to_string(s.options.concurrency) + ")";
    }
    if (s.kind == chain::step_kind::parallel) {
      std::string ids;
      for (const auto& m : s.children) ids += (ids.empty() ? "" : ", ") + m->id;
      line += " [" + ids + "]";
      if (!s.options.fail_fast) line += " (failFast false)";
    }
  }
  if (s.when) line += "  [if " + s.when->text() + "]";
  if (s.options.retry) line += "  [retry " + std::to_string(s.options.retry->max) + "]";
  if (s.options.timeout_ms) line += "  [timeout " + std::to_string(*s.options.timeout_ms) + " ms]";
  if (s.on_error) line += "  [onError]";
  return line;
}

void print_tree(const chain::step& s, int indent, const std::string& prefix, std::string& out) {
  out += std::string(static_cast<std::size_t>(indent) * 2, ' ') + prefix + step_line(s) + "\n";
  for (const auto& c : s.children) print_tree(*c, indent + 1, "", out);
  if (s.body) print_tree(*s.body, indent + 1, "do -> ", out);
  if (s.on_error) print_tree(*s.on_error, indent + 1, "onError -> ", out);
}

json tree_json(const chain::step& s) {
  json j{{"pointer", s.pointer}, {"form", s.kind == chain::step_kind::operation ? "operation" : form_label(s)}};
  if (!s.id.empty()) j["id"] = s.id;
  if (s.kind == chain::step_kind::operation) j["operation"] = s.operation;
  if (!s.doctype.empty()) j["doctype"] = s.doctype;
  if (!s.role.empty()) j["role"] = s.role;
  if (s.when) j["if"] = s.when->text();
  if (!s.children.empty()) {
    j["children"] = json::array();
    for (const auto& c : s.children) j["children"].push_back(tree_json(*c));
  }
  if (s.body) j["do"] = tree_json(*s.body);
  if (s.on_error) j["onError"] = tree_json(*s.on_error);
  return j;
}

int validate(const validate_args& a) {
  std::string text;
  try {
    text = read_input(a.file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "coworker: %s\n", e.what());
    return 1;
  }
  chain::compile_options opts;
  if (!a.any_operation) {
    auto names = builtin_operation_names();
    std::set<std::string, std::less<>> known(names.begin(), names.end());
    known.insert(a.operations.begin(), a.operations.end());
    opts.known_operation = [known = std::move(known)](std::string_view n) { return known.find(n) != known.end(); };
  }
  auto r = chain::compile_chain_text(text, opts);
  const std::string name = a.file == "-" ? "<stdin>" : a.file;
  if (a.json_out) {
    json out{{"file", name}, {"valid", r.ok()}};
    if (!r.ok()) {
      out["errors"] = json::array();
      for (const auto& e : r.errors) out["errors"].push_back({{"code", e.code}, {"message", e.message}, {"path", e.path}});
    } else {
      out["steps"] = r.doc->step_count;
      out["depth"] = r.doc->depth;
      out["operations"] = r.doc->operations;
      out["tree"] = tree_json(*r.doc->root);
    }
    std::cout << dump(out, 2) << "\n";
    return r.ok() ? 0 : 2;
  }
  if (!r.ok()) {
    for (const auto& e : r.errors)
      std::fprintf(stderr, "%s %s: %s\n", e.path.empty() ? "/" : e.path.c_str(), e.code.c_str(), e.message.c_str());
    std::fprintf(stderr, "coworker: %s is not a valid chain (%zu error%s)\n", name.c_str(), r.errors.size(),
                 r.errors.size() == 1 ? "" : "s");
    return 2;
  }
  std::string ops;
  for (const auto& o : r.doc->operations) ops += (ops.empty() ? "" : ", ") + o;
  std::string tree;
  print_tree(*r.doc->root, 1, "", tree);
  std::cout << name << ": valid chain, " << r.doc->step_count << " step" << (r.doc->step_count == 1 ? "" : "s")
            << ", depth " << r.doc->depth << ", operations: " << (ops.empty() ? "none" : ops) << "\n"
            << tree;
  return 0;
}

}  // namespace

void add_validate_command(CLI::App& app, dispatch& d) {
  auto a = std::make_shared<validate_args>();
  auto* cmd = app.add_subcommand("validate", "Check a chain document without running it");
  cmd->add_option("file", a->file, "The chain (JSON), or - for standard input")->required();
  cmd->add_flag("--json", a->json_out, "Print the errors or the summary as JSON on standard output");
  cmd->add_option("--operation", a->operations, "Accept this operation name too (repeatable)");
  cmd->add_flag("--any-operation", a->any_operation, "Accept every operation name");
  cmd->callback([a, &d] { d.run = [a] { return validate(*a); }; });
}

}  // namespace coworker::cli

// Published chains in the engine (docs/chain-language.md, "Published chains"): publish validates a
// chain and stores it as the next immutable version of its name, its own calls pinned; a run by name
// starts a version's compiled document; definitions are read back from the store at start.
#include "core/json_schema.hpp"
#include "engine_impl.hpp"

namespace coworker {

namespace {

/// The version's content hash: the chain and its schemas, key order aside (nlohmann's objects are
/// sorted), as 64 hex digits.
std::string content_sha256(const json& chain, const json& input_schema, const json& output_schema) {
  auto id = blob::id_of(dump(json{{"chain", chain}, {"inputSchema", input_schema}, {"outputSchema", output_schema}}));
  return id.substr(id.find(':') + 1);
}

}  // namespace

void engine::impl::open_definitions() {
  if (!runs || startup_error) return;
  auto opened = definition_store::open(cfg.db_path);
  if (!opened) {
    startup_error = opened.error();
    return;
  }
  definition_rows = std::move(*opened);
  auto rows = definition_rows->load();
  if (!rows) {
    cfg.log_sink("error", rows.error().message);
    return;
  }
  // Read back in publish order: a version calls only versions published before it. Its operations
  // are checked when it runs (they may be registered after the engine starts).
  auto opts = compile_opts();
  opts.known_operation = nullptr;
  for (auto& r : *rows) {
    const auto& b = r.body;
    // Read back without trusting the file: a member of the wrong type is a definition not read.
    auto member = [&b](const char* k) {
      auto it = b.is_object() ? b.find(k) : b.end();
      return it == b.end() ? json() : *it;
    };
    if (!b.is_object() || !member("sha256").is_string() || !member("chain").is_object()) {
      cfg.log_sink("error", "published chain " + r.name + "@" + std::to_string(r.version) + " cannot be read back: not a definition");
      continue;
    }
    auto compiled = chain::compile_chain(member("chain"), opts);
    if (!compiled.ok() || r.version != library.next_version(r.name)) {
      cfg.log_sink("error", "published chain " + r.name + "@" + std::to_string(r.version) + " cannot be read back: " +
                                (compiled.ok() ? std::string("a version is missing before it") : compiled.errors.front().message));
      continue;
    }
    auto ref = std::make_shared<chain::chain_ref>();
    ref->name = r.name;
    ref->version = r.version;
    ref->sha256 = member("sha256").get<std::string>();
    ref->root = compiled.doc->root;
    ref->input_schema = member("inputSchema");
    ref->output_schema = member("outputSchema");
    auto def = std::make_shared<chain_definition>();
    def->ref = std::move(ref);
    def->doc = compiled.doc;
    def->document = member("chain");
    def->called = compiled.called;
    def->created = member("created").is_number_integer() ? member("created").get<std::int64_t>() : 0;
    library.add(std::move(def));
  }
  auto aliases = definition_rows->aliases();
  if (!aliases) return cfg.log_sink("error", aliases.error().message);
  for (const auto& a : *aliases)
    if (auto r = library.set_alias(a.name, a.alias, a.version); !r) cfg.log_sink("error", r.error().message);
}

chain::compile_result engine::impl::compile_named(std::string_view text) const {
  chain::compile_result out;
  auto fail = [&](error e) {
    e.path = "/chainRef";
    out.errors.push_back(std::move(e));
    return out;
  };
  auto d = library.resolve(text);
  if (!d) return fail(d.error());
  for (const auto& op : (*d)->doc->operations)
    if (!ops.contains(op))
      return fail(make_error(codes::unknown_operation, (*d)->ref->label() + " uses operation '" + op + "', which no handler serves"));
  auto root = std::make_shared<chain::step>(*(*d)->doc->root);
  root->named = (*d)->ref;
  auto doc = std::make_shared<chain::chain_doc>(*(*d)->doc);
  doc->root = std::move(root);
  out.doc = std::move(doc);
  return out;
}

chain::compile_result engine::impl::compile_document(const json& doc) const {
  if (auto ref = doc.is_object() ? doc.find("chainRef") : doc.end();
      ref != doc.end() && ref->is_string() && !doc.contains("operation"))
    return compile_named(ref->get_ref<const std::string&>());
  return chain::compile_chain(doc, compile_opts());
}

expected<publish_outcome> engine::publish(const std::string& name, const json& chain, const json& input_schema,
                                          const json& output_schema) {
  auto& m = *impl_;
  if (!valid_chain_name(name))
    return make_error(codes::invalid_input, "a chain's name is 1 to 128 letters, digits, '_', '-' or '.'", "/name");
  for (const auto& [schema, where] : {std::pair{&input_schema, "/inputSchema"}, std::pair{&output_schema, "/outputSchema"}})
    if (!schema->is_null())
      if (auto r = schema::check(*schema, where); !r) return r.error();
  const auto sha = content_sha256(chain, input_schema, output_schema);
  std::lock_guard lock(m.publish_mu);
  if (auto same = m.library.find(name, sha)) return publish_outcome{name, same->ref->version, sha, false};
  if (m.library.versions() >= m.cfg.lim.max_published_versions)
    return make_error(codes::busy, std::to_string(m.cfg.lim.max_published_versions) +
                                       " chain versions are published already (limits.publishedVersions)");
  auto compiled = chain::compile_chain(chain, m.compile_opts());
  if (!compiled.ok()) {
    auto e = compiled.errors.front();
    if (compiled.errors.size() > 1) e.message += " (and " + std::to_string(compiled.errors.size() - 1) + " more errors)";
    e.path = "/chain" + e.path;
    return e;
  }
  // A cycle of calls between published chains, by any version, is refused (a calls b calls a).
  for (const auto& [at, label] : compiled.pins) {
    auto callee = label.substr(0, label.find('@'));
    auto way = callee == name ? std::vector<std::string>{name} : m.library.path(callee, name);
    if (way.empty()) continue;
    std::string cycle = name;
    for (const auto& n : way) cycle += " → " + n;
    return make_error(codes::invalid_chain, "calling '" + label + "' here makes a cycle of published chains: " + cycle,
                      "/chain" + at);
  }
  json pinned = chain;
  for (const auto& [at, label] : compiled.pins) pinned[json::json_pointer(at)] = label;
  const int version = m.library.next_version(name);
  const auto created = now_ms();
  if (m.definition_rows) {
    json body{{"sha256", sha}, {"chain", pinned}, {"inputSchema", input_schema}, {"outputSchema", output_schema},
              {"created", created}};
    if (auto r = m.definition_rows->put(stored_definition{name, version, std::move(body)}); !r) return r.error();
  }
  auto ref = std::make_shared<chain::chain_ref>();
  ref->name = name;
  ref->version = version;
  ref->sha256 = sha;
  ref->root = compiled.doc->root;
  ref->input_schema = input_schema;
  ref->output_schema = output_schema;
  auto def = std::make_shared<chain_definition>();
  def->ref = std::move(ref);
  def->doc = compiled.doc;
  def->document = std::move(pinned);
  def->called = compiled.called;
  def->created = created;
  m.library.add(std::move(def));
  return publish_outcome{name, version, sha, true};
}

json engine::chains() const { return impl_->library.list(); }

expected<void> engine::alias(const std::string& name, const std::string& alias, int version) {
  if (!valid_chain_name(alias))
    return make_error(codes::invalid_input, "an alias is 1 to 128 letters, digits, '_', '-' or '.'", "/alias");
  std::lock_guard lock(impl_->publish_mu);
  auto& lib = impl_->library;
  if (!valid_chain_name(name) || lib.next_version(name) == 1)
    return make_error(codes::not_found, "no published chain '" + name + "'", "/name");
  if (version < 1 || version >= lib.next_version(name))
    return make_error(codes::not_found, "chain '" + name + "' has no version " + std::to_string(version), "/version");
  // Stored first: an alias the store does not have is not answered for.
  if (impl_->definition_rows)
    if (auto r = impl_->definition_rows->alias(stored_alias{name, alias, version}); !r) return r;
  return lib.set_alias(name, alias, version);
}

expected<std::string> engine::submit_ref(const std::string& chain_ref, const submit_options& opts) {
  auto compiled = impl_->compile_named(chain_ref);
  if (!compiled.ok()) return compiled.errors.front();
  // The input given with a run by name is known whole: it must fit the chain's inputSchema.
  if (const auto& schema = compiled.doc->root->named->input_schema; opts.input && !schema.is_null())
    if (auto r = schema::validate(schema, *opts.input, "/input"); !r) return r.error();
  const json source{{"chainRef", compiled.doc->root->named->label()}};
  bool created = false;
  auto id = impl_->start(compiled, &source, opts, created);
  if (!id) return id;
  if (impl_->runs && opts.wait_durable) impl_->registry->wait_durable(*id);
  return id;
}

}  // namespace coworker

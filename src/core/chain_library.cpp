// chain_library: references, versions, aliases and the call graph between published chains.
#include "core/chain_library.hpp"

#include <algorithm>
#include <set>

namespace coworker {

bool valid_chain_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  });
}

expected<chain_reference> parse_chain_reference(std::string_view text, const std::string& where) {
  chain_reference r;
  auto bad = [&](const std::string& why) {
    return make_error(codes::invalid_input,
                      "'" + std::string(text.substr(0, 160)) + "' is not a chain reference (" + why +
                          "): give \"name@3\", \"name:alias\" or \"name\"",
                      where);
  };
  auto sep = text.find_first_of("@:");
  r.name = std::string(text.substr(0, sep));
  if (!valid_chain_name(r.name)) return bad("a name is 1 to 128 letters, digits, '_', '-' or '.'");
  if (sep == std::string_view::npos) return r;
  auto rest = text.substr(sep + 1);
  if (text[sep] == ':') {
    if (!valid_chain_name(rest)) return bad("an alias is 1 to 128 letters, digits, '_', '-' or '.'");
    r.alias = std::string(rest);
    return r;
  }
  if (rest.empty() || rest.size() > 9 || !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return bad("a version is a positive number");
  r.version = std::stoi(std::string(rest));
  if (r.version < 1) return bad("a version is a positive number");
  return r;
}

expected<std::shared_ptr<const chain_definition>> chain_library::resolve(std::string_view text) const {
  auto ref = parse_chain_reference(text, "");
  if (!ref) return ref.error();
  std::lock_guard lock(mu_);
  auto it = by_name_.find(ref->name);
  if (it == by_name_.end() || it->second.versions.empty())
    return make_error(codes::not_found, "no published chain '" + ref->name + "'");
  const auto& e = it->second;
  int version = ref->version;
  if (!ref->alias.empty()) {
    auto a = e.aliases.find(ref->alias);
    if (a == e.aliases.end()) return make_error(codes::not_found, "chain '" + ref->name + "' has no alias '" + ref->alias + "'");
    version = a->second;
  }
  if (version == 0) version = static_cast<int>(e.versions.size());
  if (version > static_cast<int>(e.versions.size()))
    return make_error(codes::not_found, "chain '" + ref->name + "' has no version " + std::to_string(version) +
                                            " (the latest is " + std::to_string(e.versions.size()) + ")");
  return e.versions[static_cast<std::size_t>(version - 1)];
}

std::shared_ptr<const chain_definition> chain_library::find(const std::string& name, const std::string& sha256) const {
  std::lock_guard lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return nullptr;
  for (const auto& d : it->second.versions)
    if (d->ref->sha256 == sha256) return d;
  return nullptr;
}

int chain_library::next_version(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = by_name_.find(name);
  return it == by_name_.end() ? 1 : static_cast<int>(it->second.versions.size()) + 1;
}

void chain_library::add(std::shared_ptr<const chain_definition> def) {
  std::lock_guard lock(mu_);
  by_name_[def->ref->name].versions.push_back(std::move(def));
}

expected<void> chain_library::set_alias(const std::string& name, const std::string& alias, int version) {
  std::lock_guard lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return make_error(codes::not_found, "no published chain '" + name + "'", "/name");
  if (version < 1 || version > static_cast<int>(it->second.versions.size()))
    return make_error(codes::not_found, "chain '" + name + "' has no version " + std::to_string(version), "/version");
  it->second.aliases[alias] = version;
  return {};
}

std::vector<std::string> chain_library::path(const std::string& from, const std::string& target) const {
  std::lock_guard lock(mu_);
  // Breadth first over names; `came` remembers the way back.
  std::map<std::string, std::string> came{{from, ""}};
  std::vector<std::string> frontier{from};
  while (!frontier.empty()) {
    std::vector<std::string> next;
    for (const auto& n : frontier) {
      if (n == target) {
        std::vector<std::string> out;
        for (std::string at = n; !at.empty(); at = came[at]) out.push_back(at);
        std::reverse(out.begin(), out.end());
        return out;
      }
      auto it = by_name_.find(n);
      if (it == by_name_.end()) continue;
      for (const auto& d : it->second.versions)
        for (const auto& c : d->called)
          if (came.emplace(c, n).second) next.push_back(c);
    }
    frontier = std::move(next);
  }
  return {};
}

json chain_library::list() const {
  std::lock_guard lock(mu_);
  json out = json::array();
  for (const auto& [name, e] : by_name_) {
    json versions = json::array();
    for (const auto& d : e.versions)
      versions.push_back(json{{"version", d->ref->version}, {"sha256", d->ref->sha256}, {"created", d->created}});
    json aliases = json::object();
    for (const auto& [a, v] : e.aliases) aliases[a] = v;
    out.push_back(json{{"name", name}, {"versions", std::move(versions)}, {"aliases", std::move(aliases)}});
  }
  return out;
}

std::size_t chain_library::versions() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& [name, e] : by_name_) n += e.versions.size();
  return n;
}

std::size_t chain_library::size() const {
  std::lock_guard lock(mu_);
  return by_name_.size();
}

}  // namespace coworker

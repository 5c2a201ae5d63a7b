// Published chains (docs/chain-language.md, "Published chains"): named, immutable versions with
// aliases, resolved by reference ("triage@3", "triage:prod", "triage" for the latest). Plain data
// behind a mutex; the engine validates and stores, this decides versions, aliases and cycles.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "chain/model.hpp"
#include "coworker/error.hpp"

namespace coworker {

/// One version of a published chain.
struct chain_definition {
  std::shared_ptr<const chain::chain_ref> ref;  ///< name, version, sha256, compiled root, schemas
  std::shared_ptr<const chain::chain_doc> doc;  ///< the compiled document (a run by name runs it)
  json document;                                ///< as stored: its own calls pinned ("b@2")
  std::vector<std::string> called;              ///< the names it calls
  std::int64_t created = 0;
};

/// A reference taken apart: `name@version`, `name:alias`, or `name` (the latest).
struct chain_reference {
  std::string name;
  int version = 0;    ///< 0: not given
  std::string alias;  ///< empty: not given
};

/// Parses a reference; invalid_input at `where` when it is not one.
expected<chain_reference> parse_chain_reference(std::string_view text, const std::string& where);
/// 1 to 128 letters, digits, `_`, `-`, `.`.
bool valid_chain_name(std::string_view name);

class chain_library {
 public:
  /// The version a reference names now; not_found naming what is missing.
  expected<std::shared_ptr<const chain_definition>> resolve(std::string_view text) const;
  /// The version of `name` with this content, if published already.
  std::shared_ptr<const chain_definition> find(const std::string& name, const std::string& sha256) const;
  /// The number the next version of `name` gets.
  int next_version(const std::string& name) const;
  /// Adds a version (its ref's version must be next_version()).
  void add(std::shared_ptr<const chain_definition> def);
  /// Points `alias` of `name` at `version`: not_found for an unknown name or version.
  expected<void> set_alias(const std::string& name, const std::string& alias, int version);
  /// The names through which `from` calls `target` (from, ..., target), by any version; empty: it
  /// does not.
  std::vector<std::string> path(const std::string& from, const std::string& target) const;
  /// `[{"name","versions":[{"version","sha256","created"}],"aliases":{...}}]`, by name.
  json list() const;
  std::size_t size() const;
  std::size_t versions() const;  ///< every version of every name

 private:
  struct entry {
    std::vector<std::shared_ptr<const chain_definition>> versions;  ///< version k at k-1
    std::map<std::string, int> aliases;
  };
  mutable std::mutex mu_;
  std::map<std::string, entry> by_name_;
};

}  // namespace coworker

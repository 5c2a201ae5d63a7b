// Which stored value a run's input or output is, and which row a run is (docs/store.md, "Run records"):
// the store keeps each value of a chain once in `run_values`, and a run row references it and its
// chain's and owner's rows by row id. A value passed unchanged from
// one step to the next is the same shared JSON, found here by its address; an equal value built anew
// (a template that renders the same object) is found by the hash of its text and confirmed by the
// caller against the stored text. Kept per chain while the chain runs; forgotten when it ends.
// Pure bookkeeping: the store does the SQL.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "coworker/json.hpp"

namespace coworker::runs {

class value_refs {
 public:
  /// The id of `v` in chain `chain` when this writer stored it before (same address).
  std::optional<std::int64_t> by_address(const std::string& chain, const value_ptr& v) const {
    const auto* s = stored_as(chain, v);
    return s ? std::optional<std::int64_t>(s->id) : std::nullopt;
  }

  /// Whether `v`, stored before in chain `chain`, was within half the blob budget (value_forms::
  /// within_half) when it was; nothing when it was not stored (by its address).
  std::optional<bool> small(const std::string& chain, const value_ptr& v) const {
    const auto* s = stored_as(chain, v);
    return s ? std::optional<bool>(s->small) : std::nullopt;
  }

  /// The ids of the chain's stored values whose text hashes like `text` (to confirm against the store).
  std::vector<std::int64_t> by_text(const std::string& chain, std::string_view text) const {
    std::vector<std::int64_t> out;
    auto c = chains_.find(chain);
    if (c == chains_.end()) return out;
    auto [from, to] = c->second.by_hash.equal_range(hash(text));
    for (auto it = from; it != to; ++it) out.push_back(it->second);
    return out;
  }

  /// Remembers that `v` (whose text is `text`; null: a value without a handle of its own) is stored
  /// as `id` in chain `chain`; `small`: v is within half the blob budget.
  void remember(const std::string& chain, const value_ptr& v, std::string_view text, std::int64_t id,
                bool small = false) {
    auto& c = chains_[chain];
    if (v) c.by_address.emplace(v.get(), stored{v, id, small});  // holding v keeps its address from being reused
    c.by_hash.emplace(hash(text), id);
  }

  /// The row id of run `run` of chain `chain`, when this writer wrote it.
  std::optional<std::int64_t> row(const std::string& chain, const std::string& run) const {
    auto c = chains_.find(chain);
    if (c == chains_.end()) return std::nullopt;
    auto it = c->second.rows.find(run);
    if (it == c->second.rows.end()) return std::nullopt;
    return it->second;
  }
  void remember_row(const std::string& chain, const std::string& run, std::int64_t row) { chains_[chain].rows[run] = row; }

  /// Whether the chain's reference to blob `id` is new (then it is remembered).
  bool new_blob(const std::string& chain, const std::string& id) { return chains_[chain].blobs.insert(id).second; }

  /// The chain ended: its values and rows will not be referenced again.
  void forget(const std::string& chain) { chains_.erase(chain); }
  /// A transaction was rolled back: ids remembered in it may not exist. Later writes store anew.
  void clear() { chains_.clear(); }
  std::size_t chains() const { return chains_.size(); }

 private:
  static std::uint64_t hash(std::string_view text) { return std::hash<std::string_view>{}(text); }
  struct stored {
    value_ptr value;
    std::int64_t id;
    bool small;
  };
  /// What this writer stored for `v` (by its address) in chain `chain`, or null.
  const stored* stored_as(const std::string& chain, const value_ptr& v) const {
    auto c = chains_.find(chain);
    if (c == chains_.end()) return nullptr;
    auto it = c->second.by_address.find(v.get());
    return it == c->second.by_address.end() ? nullptr : &it->second;
  }
  struct chain_values {
    std::unordered_map<const json*, stored> by_address;
    std::unordered_multimap<std::uint64_t, std::int64_t> by_hash;
    std::unordered_map<std::string, std::int64_t> rows;  // run id → row id in `runs`
    std::unordered_set<std::string> blobs;               // blob ids the chain references, stored
  };
  std::unordered_map<std::string, chain_values> chains_;
};

}  // namespace coworker::runs

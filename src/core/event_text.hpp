// Events as text for the PUB socket, fast: a value passed down a chain (one step's output is the next
// step's input, the same shared JSON) is serialized once, not in every event that carries it. Values
// are carried as value_forms gives them: a large one as its blob reference (docs/protocol.md, "Blobs").
#pragma once

#include <deque>
#include <string>
#include <unordered_map>

#include "core/value_forms.hpp"
#include "coworker/event.hpp"

namespace coworker {

class value_text_cache {
 public:
  explicit value_text_cache(std::size_t capacity = 4096) : capacity_(capacity) {}
  /// Texts the committer handed over (value_forms::hand_text) are taken from `source` before
  /// serializing a value again; `source` outlives the cache.
  explicit value_text_cache(value_forms& source, std::size_t capacity = 4096) : capacity_(capacity), source_(&source) {
    source.want_texts();
  }
  /// The compact JSON text of `v` ("null" for an empty handle).
  const std::string& text(const value_ptr& v);
  /// forms.of(r), with a value found within half the budget (of()'s fast path, where a value is its
  /// own form) known as such while it is cached, not walked again for every record and event that
  /// carries it.
  record_forms forms_of(const run_record& r, value_forms& forms);
  /// Texts taken from the source instead of serialized here.
  std::size_t taken() const { return taken_; }
  /// Values held (each kept in memory while it is).
  std::size_t size() const { return map_.size(); }

 private:
  struct entry {
    value_ptr keep;  // holding the value keeps its address from being reused while cached
    std::string text;
    bool has_text = false;
    bool small = false;  // value_forms::within_half, known
  };
  /// The entry of `v`, made (the oldest one leaving when full) when there is none.
  entry& entry_of(const value_ptr& v);
  std::size_t capacity_;
  value_forms* source_ = nullptr;
  std::size_t taken_ = 0;
  std::unordered_map<const json*, entry> map_;
  std::deque<const json*> order_;
  std::string null_ = "null";
};

/// A run record as compact JSON (the content of dump(to_json(r, forms)); key order may differ).
std::string record_text(const run_record& r, value_forms& forms, value_text_cache& cache);

/// A run's tree `{...record, "children": [...]}` as compact JSON (the content of
/// dump(engine::tree(id, true))): `records` as engine::tree_records gives them, the root first.
std::string tree_text(const std::vector<std::shared_ptr<const run_record>>& records, value_forms& forms, value_text_cache& cache);

/// A snapshot `{seq, epoch, stream, runs}` as compact JSON (the content of dump(engine::snapshot())).
std::string snapshot_text(std::uint64_t seq, const std::string& epoch, const std::string& stream,
                          const std::vector<std::shared_ptr<const run_record>>& records, value_forms& forms,
                          value_text_cache& cache);

/// The envelope `{seq, epoch, time, event, run}` as compact JSON (the same content as
/// dump(to_json(e, forms)); key order may differ).
std::string envelope_text(const event& e, value_forms& forms, value_text_cache& cache);

}  // namespace coworker

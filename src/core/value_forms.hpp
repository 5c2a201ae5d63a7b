// What a run record carries outside the engine (docs/store.md, "Blobs"): in memory a run keeps its
// input and output whole, so templates and steps use them as they are; the store, events and
// protocol replies carry a value past limits.blobBytes as a blob reference instead. The rule is
// decided here, once for everyone, from the values alone:
//   1. a value whose size passes the budget is put aside (blob::externalize: its large members first);
//   2. while the record's input and output together still pass the budget, the larger of the two is
//      put aside whole.
// The budget is limits.blobBytes less 4 KiB for the record's other fields, so an event frame stays
// within blobBytes. Values under half the budget each take the fast path: no lock, no copy.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/blob.hpp"
#include "coworker/event.hpp"
#include "coworker/run_record.hpp"

namespace coworker {

using blob_ptr = std::shared_ptr<const blob::stored>;

/// A record's input and output as carried outside the engine, and the blobs they reference.
struct record_forms {
  value_ptr input;
  value_ptr output;
  std::vector<blob_ptr> blobs;
};

/// What the record fields besides input and output may take in an event frame.
inline constexpr std::size_t record_fields_allowance = 4 * 1024;

class value_forms {
 public:
  /// `blob_bytes`: limits.blobBytes. `keep_bytes`: blob texts kept for text() (memory mode, where
  /// nothing else keeps them), oldest dropped first; 0: none.
  explicit value_forms(std::size_t blob_bytes, std::size_t keep_bytes = 0);
  value_forms(const value_forms&) = delete;
  value_forms& operator=(const value_forms&) = delete;

  /// The forms of `r`'s input and output. Thread-safe; a value's forms are computed once while cached.
  record_forms of(const run_record& r);
  /// The text of a blob that of() made, while it is kept (keep_bytes).
  std::optional<std::string> text(const std::string& id) const;
  std::size_t budget() const { return budget_; }
  /// Whether `v` is within half the budget: then it is its own form in every record (of()'s fast path).
  bool within_half(const json& v) const;

  // A value's compact text, handed from the committer, which writes it to the store first, to the
  // edge that writes it into an event next (value_text_cache), instead of each serializing it. Kept
  // only once an edge said it wants them, at most handed_texts of them and handed_bytes of text, the
  // oldest dropped first.
  static constexpr std::size_t handed_texts = 4096;
  static constexpr std::size_t handed_bytes = 16 * 1024 * 1024;
  void want_texts() { texts_wanted_.store(true, std::memory_order_relaxed); }
  bool texts_wanted() const { return texts_wanted_.load(std::memory_order_relaxed); }
  /// `text` is dump(*v); dropped unless texts are wanted.
  void hand_text(const value_ptr& v, std::string text);
  /// The text handed for `v`, taken (a second claim gets nothing), while `v` is the value it was
  /// handed for.
  std::optional<std::string> claim_text(const value_ptr& v);

 private:
  struct entry {
    value_ptr keep;   ///< holding the value keeps its address from being reused while cached
    value_ptr form;   ///< after rule 1 (the value itself when it is within the budget)
    std::size_t size = 0;  ///< approx_size of form
    std::vector<blob_ptr> blobs;
    value_ptr whole;  ///< after rule 2, once asked for
    blob_ptr whole_blob;
    std::size_t bytes = 0;  ///< blob text bytes held
  };
  std::shared_ptr<entry> entry_of(const value_ptr& v);
  void put_whole(entry& e);
  void remember_locked(const std::shared_ptr<entry>& e);
  void keep_locked(const blob_ptr& b);

  const std::size_t budget_;
  const std::size_t keep_bytes_;
  mutable std::mutex mu_;
  std::unordered_map<const json*, std::shared_ptr<entry>> entries_;
  std::deque<const json*> order_;
  std::size_t entry_bytes_ = 0;
  std::unordered_map<std::string, blob_ptr> kept_;
  std::deque<std::string> kept_order_;
  std::size_t kept_bytes_ = 0;

  struct handed {
    std::weak_ptr<const json> value;  ///< an address is that value's only while it lives
    std::string text;
  };
  std::atomic<bool> texts_wanted_{false};
  std::mutex texts_mu_;
  std::unordered_map<const json*, handed> texts_;
  std::deque<const json*> texts_order_;
  std::size_t texts_bytes_ = 0;
};

/// The record's JSON form (docs/run-record.md) with its values as `forms` gives them.
json to_json(const run_record& r, value_forms& forms);
/// The envelope `{seq, epoch, time, event, run}` with the record's values as `forms` gives them.
json to_json(const event& e, value_forms& forms);

}  // namespace coworker

// value_forms: the two rules of value_forms.hpp, with a cache by value address.
#include "core/value_forms.hpp"

#include <algorithm>

#include "core/frame.hpp"

namespace coworker {

namespace {
constexpr std::size_t max_entries = 64;  // values of more than half the budget, by address
constexpr std::size_t max_entry_bytes = 16 * 1024 * 1024;  // blob texts held until the store and the edges had them
}  // namespace

value_forms::value_forms(std::size_t blob_bytes, std::size_t keep_bytes)
    : budget_(blob_bytes > 2 * record_fields_allowance ? blob_bytes - record_fields_allowance : blob_bytes / 2),
      keep_bytes_(keep_bytes) {}

std::shared_ptr<value_forms::entry> value_forms::entry_of(const value_ptr& v) {
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(v.get()); it != entries_.end()) return it->second;
  }
  auto e = std::make_shared<entry>();
  e->keep = v;
  e->size = approx_size(*v, budget_);
  if (e->size <= budget_) {
    e->form = v;
  } else {  // rule 1
    std::vector<blob::stored> out;
    e->form = std::make_shared<const json>(blob::externalize(*v, budget_, out));
    e->size = approx_size(*e->form, budget_);
    for (auto& s : out) {
      e->bytes += s.text.size();
      e->blobs.push_back(std::make_shared<const blob::stored>(std::move(s)));
    }
  }
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(v.get()); it != entries_.end()) return it->second;  // another thread was first
  remember_locked(e);
  return e;
}

void value_forms::remember_locked(const std::shared_ptr<entry>& e) {
  entries_.emplace(e->keep.get(), e);
  order_.push_back(e->keep.get());
  entry_bytes_ += e->bytes;
  for (const auto& b : e->blobs) keep_locked(b);
  while (order_.size() > 1 && (order_.size() > max_entries || entry_bytes_ > max_entry_bytes)) {
    auto it = entries_.find(order_.front());
    entry_bytes_ -= it->second->bytes;
    entries_.erase(it);
    order_.pop_front();
  }
}

void value_forms::keep_locked(const blob_ptr& b) {
  if (keep_bytes_ == 0 || kept_.count(b->id)) return;
  kept_.emplace(b->id, b);
  kept_order_.push_back(b->id);
  kept_bytes_ += b->text.size();
  while (kept_order_.size() > 1 && kept_bytes_ > keep_bytes_) {
    auto it = kept_.find(kept_order_.front());
    kept_bytes_ -= it->second->text.size();
    kept_.erase(it);
    kept_order_.pop_front();
  }
}

void value_forms::put_whole(entry& e) {
  {
    std::lock_guard lock(mu_);
    if (e.whole) return;
  }
  std::vector<blob::stored> out;
  auto whole = std::make_shared<const json>(blob::keep_whole(*e.form, out));
  blob_ptr b = out.empty() ? nullptr : std::make_shared<const blob::stored>(std::move(out.front()));
  std::lock_guard lock(mu_);
  if (e.whole) return;
  e.whole = whole;
  e.whole_blob = b;
  if (b) {
    e.bytes += b->text.size();
    entry_bytes_ += b->text.size();
    keep_locked(b);
  }
}

bool value_forms::within_half(const json& v) const { return approx_size(v, budget_ / 2) <= budget_ / 2; }

record_forms value_forms::of(const run_record& r) {
  auto small = [&](const value_ptr& v) { return !v || within_half(*v); };
  if (small(r.input) && small(r.output)) return {r.input, r.output, {}};

  record_forms f{r.input, r.output, {}};
  struct side {
    value_ptr* form;
    std::shared_ptr<entry> e;
    std::size_t size = 0;
    bool whole = false;
  };
  side sides[2] = {{&f.input, nullptr}, {&f.output, nullptr}};
  for (auto& s : sides) {
    if (!*s.form) continue;
    s.e = entry_of(*s.form);
    *s.form = s.e->form;
    s.size = s.e->size;
    f.blobs.insert(f.blobs.end(), s.e->blobs.begin(), s.e->blobs.end());
  }
  while (sides[0].size + sides[1].size > budget_) {  // rule 2: the larger one whole (the input on a tie)
    auto& s = sides[1].size > sides[0].size ? sides[1] : sides[0];
    if (s.whole) break;  // a reference is all that is left of it
    put_whole(*s.e);
    std::lock_guard lock(mu_);
    *s.form = s.e->whole;
    s.size = approx_size(*s.e->whole, budget_);
    s.whole = true;
    if (s.e->whole_blob) f.blobs.push_back(s.e->whole_blob);
  }
  return f;
}

void value_forms::hand_text(const value_ptr& v, std::string text) {
  if (!v || !texts_wanted()) return;
  std::lock_guard lock(texts_mu_);
  auto [it, added] = texts_.try_emplace(v.get());
  texts_bytes_ += text.size();
  texts_bytes_ -= it->second.text.size();
  it->second = {v, std::move(text)};  // an address handed before belongs to this value now
  if (added) texts_order_.push_back(v.get());
  // Texts nobody claimed (an edge that is behind, or a value no event carries) leave oldest first.
  // An address in the order whose text was claimed is skipped; one handed again keeps its first place.
  while ((texts_.size() > handed_texts || texts_bytes_ > handed_bytes) && !texts_order_.empty()) {
    if (auto gone = texts_.find(texts_order_.front()); gone != texts_.end()) {
      texts_bytes_ -= gone->second.text.size();
      texts_.erase(gone);
    }
    texts_order_.pop_front();
  }
  if (texts_order_.size() > 2 * handed_texts) {  // claims left their addresses behind
    std::deque<const json*> live;
    for (auto* p : texts_order_)
      if (texts_.count(p)) live.push_back(p);
    texts_order_.swap(live);
  }
}

std::optional<std::string> value_forms::claim_text(const value_ptr& v) {
  if (!v || !texts_wanted()) return std::nullopt;
  std::lock_guard lock(texts_mu_);
  auto it = texts_.find(v.get());
  if (it == texts_.end()) return std::nullopt;
  std::optional<std::string> out;
  texts_bytes_ -= it->second.text.size();
  if (it->second.value.lock() == v) out = std::move(it->second.text);
  texts_.erase(it);
  return out;
}

std::optional<std::string> value_forms::text(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = kept_.find(id);
  if (it == kept_.end()) return std::nullopt;
  return it->second->text;
}

json to_json(const run_record& r, value_forms& forms) {
  auto f = forms.of(r);
  if (f.input == r.input && f.output == r.output) return to_json(r);
  run_record carried = r;
  carried.input = std::move(f.input);
  carried.output = std::move(f.output);
  return to_json(carried);
}

json to_json(const event& e, value_forms& forms) {
  auto j = to_json(event{e.seq, e.epoch, e.time, e.kind, nullptr, e.stream});
  if (e.run) j["run"] = to_json(*e.run, forms);
  return j;
}

}  // namespace coworker

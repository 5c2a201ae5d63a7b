// run_registry: records, their index (top chains ordered by id, the active ones apart), sequence
// numbers and retention. The committer and the waits are in run_committer.cpp.
#include "core/run_registry.hpp"

#include <algorithm>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "core/frame.hpp"
#include "coworker/limits.hpp"

namespace coworker {

void run_registry::add_pending(record_ptr root, const std::string& key, chain_submission submission,
                               std::shared_ptr<const void> origin) {
  std::lock_guard lock(mu_);
  active_.insert(root->id);
  roots_.insert(root->id);
  if (submission.document) {
    pending_chains_.push_back(std::move(submission));
    if (committer_sleeping_) commit_cv_.notify_one();
  }
  if (!key.empty()) {
    keys_[key] = root->id;
    key_of_root_[root->id] = key;
  }
  auto id = root->id;
  entries_[id] = entry{std::move(root), {}, 0, 0, 0, std::move(origin), false};
}

void run_registry::restore(std::vector<run_record> records,
                           const std::vector<std::pair<std::string, std::string>>& keys) {
  std::sort(records.begin(), records.end(), [](const run_record& a, const run_record& b) { return a.id < b.id; });
  std::lock_guard lock(mu_);
  for (auto& r : records) {
    // An await that waited when the engine stopped waits again once its chain resumes (and says so
    // then): until that moment it is not reachable by a signal.
    if (r.status == run_status::waiting) r.status = run_status::running;
    auto rec = std::make_shared<const run_record>(std::move(r));
    if (rec->owner_run_id.empty()) {
      roots_.insert(rec->id);
      if (is_final(rec->status)) {
        if (!active_.count(rec->id) &&
            std::none_of(finished_roots_.begin(), finished_roots_.end(), [&](const retained& f) { return f.root == rec->id; }))
          finished_roots_.push_back(retained{rec->id, 0});
      } else {
        active_.insert(rec->id);
      }
    }
    auto& e = entries_[rec->id];
    e.rec = std::move(rec);
    e.first_seq = first_seq_;  // read from the store: durable
  }
  // Children of unfinished runs, in start order (ids are time-ordered).
  for (auto& [id, e] : entries_) {
    (void)id;
    const auto& r = *e.rec;
    if (r.owner_run_id.empty()) continue;
    auto owner = entries_.find(r.owner_run_id);
    if (owner == entries_.end() || is_final(owner->second.rec->status)) continue;
    auto& kids = owner->second.live_children;
    if (std::find(kids.begin(), kids.end(), r.id) == kids.end()) kids.push_back(r.id);
  }
  for (auto& [id, e] : entries_) {
    (void)id;
    std::sort(e.live_children.begin(), e.live_children.end());
  }
  for (const auto& [key, root] : keys) {
    if (!entries_.count(root)) continue;
    keys_[key] = root;
    key_of_root_[root] = key;
  }
}

std::optional<std::string> run_registry::find_key(const std::string& key) const {
  {
    std::lock_guard lock(mu_);
    auto it = keys_.find(key);
    if (it != keys_.end()) return it->second;
  }
  if (history_) return history_->find_key(key);
  return std::nullopt;
}

void run_registry::started(record_ptr r) {
  releasing_lock lock(*this);
  auto& e = entries_[r->id];
  if (!r->owner_run_id.empty() && !e.rec) {  // a run resumed after a restart is listed already
    auto owner = entries_.find(r->owner_run_id);
    if (owner != entries_.end()) owner->second.live_children.push_back(r->id);
  }
  e.rec = r;
  e.replaceable = false;
  publish_locked(event_kind::before_run, std::move(r), e);
}

void run_registry::updated(record_ptr r) {
  releasing_lock lock(*this);
  auto it = entries_.find(r->id);
  if (it == entries_.end() || !it->second.rec || is_final(it->second.rec->status)) return;  // ended meanwhile (forced)
  it->second.rec = r;
  publish_locked(event_kind::update_run, std::move(r), it->second);
}

/// The record itself and its values, whose parsed form takes about twice their text (a value shared
/// by two records counts twice: the estimate errs on the side of dropping early).
std::size_t run_registry::retained_size(const run_record& r, std::size_t cap) {
  std::size_t n = 512 + r.id.size() * (2 + r.child_run_ids.size());
  if (r.input) n += 2 * approx_size(*r.input, cap);
  if (r.output) n += 2 * approx_size(*r.output, cap);
  return n;
}

void run_registry::set_retained_bytes(std::size_t bytes) {
  releasing_lock lock(*this);
  retained_budget_ = bytes;
  evict_locked();
}

void run_registry::set_history(std::shared_ptr<run_history> h) {
  std::lock_guard lock(mu_);
  history_ = std::move(h);
}

void run_registry::finished(record_ptr r) {
  // Measured outside the lock runs need.
  const auto bytes = retained_size(*r, retained_budget_.load(std::memory_order_relaxed));
  releasing_lock lock(*this);
  auto& e = entries_[r->id];
  if (e.rec && is_final(e.rec->status) && !e.replaceable) return;  // already ended (forced): first end wins
  e.replaceable = false;
  if (!e.rec && !r->owner_run_id.empty()) {
    // A run that ends without starting (skipped) still belongs to its owner's children.
    auto owner = entries_.find(r->owner_run_id);
    if (owner != entries_.end()) owner->second.live_children.push_back(r->id);
  }
  e.rec = r;
  e.live_children.clear();
  e.live_children.shrink_to_fit();
  if (auto root = entries_.find(r->chain_id); root != entries_.end()) root->second.tree_bytes += bytes;
  publish_locked(event_kind::after_run, r, e);
  if (r->owner_run_id.empty()) {
    active_.erase(r->id);
    retire_locked(r->id);
  }
}

void run_registry::force_finish(const std::string& id, run_status status, const run_error& err) {
  // Children end before their owner, so the event order stays that of docs/protocol.md.
  std::vector<record_ptr> done;
  {
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::string, int>> todo{{id, 0}};
    std::vector<std::string> order;
    while (!todo.empty()) {
      auto [cur, depth] = todo.back();
      todo.pop_back();
      auto it = entries_.find(cur);
      if (it == entries_.end() || !it->second.rec || is_final(it->second.rec->status)) continue;
      order.push_back(cur);
      if (depth < max_run_tree_depth)
        for (const auto& c : it->second.live_children) todo.emplace_back(c, depth + 1);
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      auto r = std::make_shared<run_record>(*merged_locked(entries_[*it]));
      r->status = status;
      r->finished = now_ms();
      r->success = false;
      r->err = err;
      r->err->run_id = r->id;
      r->err->operation = r->operation;
      done.push_back(std::move(r));
    }
  }
  for (auto& r : done) finished(std::move(r));
}

void run_registry::publish_locked(event_kind k, record_ptr r, entry& e) {
  const auto seq = ++seq_;
  if (!e.first_seq) e.first_seq = seq;
  if (k == event_kind::after_run) e.final_seq = seq;
  log_.append(event{seq, epoch_, now_ms(), k, std::move(r), stream_}, !durable_mode_, dead_);
  if (durable_mode_) {
    if (committer_sleeping_) {
      committer_sleeping_ = false;
      commit_cv_.notify_one();
    }
  } else if (waiters_ > 0 && waited_.count(e.rec->id)) {
    waiters_cv_.notify_all();  // only a run someone waits for
  }
}

void run_registry::retire_locked(const std::string& root_id) {
  auto it = entries_.find(root_id);
  const auto bytes = it == entries_.end() ? 0 : it->second.tree_bytes;
  finished_roots_.push_back(retained{root_id, bytes});
  retained_bytes_ += bytes;
  evict_locked();
}

void run_registry::evict_locked() {
  while (!finished_roots_.empty() &&
         (finished_roots_.size() > retain_chains_ || retained_bytes_ > retained_budget_.load(std::memory_order_relaxed))) {
    if (durable_mode_) {
      // A chain leaves memory only once its end is stored: the store answers for it from then on.
      auto it = entries_.find(finished_roots_.front().root);
      if (it != entries_.end() && it->second.final_seq > log_.durable_seq()) return;
    }
    retained_bytes_ -= finished_roots_.front().bytes;
    auto old = std::move(finished_roots_.front().root);
    finished_roots_.pop_front();
    if (auto k = key_of_root_.find(old); k != key_of_root_.end()) {
      keys_.erase(k->second);
      key_of_root_.erase(k);
    }
    roots_.erase(old);
    erase_tree_locked(old, 0);
  }
}

void run_registry::erase_tree_locked(const std::string& id, int depth) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  auto rec = std::move(it->second.rec);
  entries_.erase(it);
  if (!rec) return;
  if (depth < max_run_tree_depth)
    for (const auto& c : rec->child_run_ids) erase_tree_locked(c, depth + 1);
  dead_.push_back(std::move(rec));
}

record_ptr run_registry::merged_locked(const entry& e) const {
  if (e.live_children.empty() || !e.rec) return e.rec;
  auto r = std::make_shared<run_record>(*e.rec);
  r->child_run_ids = e.live_children;
  return r;
}

record_ptr run_registry::get(const std::string& id) const {
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(id);
    if (it != entries_.end()) return merged_locked(it->second);
  }
  if (history_)
    if (auto r = history_->record(id)) return std::make_shared<const run_record>(std::move(*r));
  return nullptr;
}

namespace {
/// `root` with its descendants that `by_id` holds, in childRunIds order.
json tree_json(const run_record& root, const std::unordered_map<std::string_view, const run_record*>& by_id,
               value_forms* forms) {
  auto build = [&](auto& self, const run_record& r, int depth) -> json {
    json out = forms ? to_json(r, *forms) : to_json(r);
    json children = json::array();
    if (depth < max_run_tree_depth)
      for (const auto& c : r.child_run_ids)
        if (auto it = by_id.find(c); it != by_id.end()) children.push_back(self(self, *it->second, depth + 1));
    out["children"] = std::move(children);
    return out;
  };
  return build(build, root, 0);
}
}  // namespace

std::vector<record_ptr> run_registry::tree_of(const std::string& id) const {
  auto rec = history_->record(id);
  if (!rec) return {};
  list_filter f;
  f.chain_id = rec->chain_id;
  f.limit = static_cast<std::size_t>(-1);
  std::vector<run_record> all{std::move(*rec)};
  for (auto& r : history_->list(f))
    if (r.id != all.front().id) all.push_back(std::move(r));
  // A run that has not ended is stored without its children (its node keeps them in memory until
  // it ends): read from another node of a cluster, its children are the runs it owns, in the order
  // they started (run ids are ordered by time).
  std::unordered_map<std::string, std::vector<std::string>> owned;
  for (const auto& r : all)
    if (!r.owner_run_id.empty()) owned[r.owner_run_id].push_back(r.id);
  std::vector<record_ptr> out;
  out.reserve(all.size());
  for (auto& r : all) {
    if (!is_final(r.status))
      if (auto it = owned.find(r.id); it != owned.end() && it->second.size() > r.child_run_ids.size()) {
        std::sort(it->second.begin(), it->second.end());
        r.child_run_ids = std::move(it->second);
      }
    out.push_back(std::make_shared<const run_record>(std::move(r)));
  }
  return out;
}

std::vector<record_ptr> run_registry::tree_records(const std::string& id) const {
  std::vector<record_ptr> records;
  {
    std::lock_guard lock(mu_);
    collect_locked(id, 0, records);
  }
  if (records.empty() && history_) return tree_of(id);
  return records;
}

std::optional<json> run_registry::tree(const std::string& id, value_forms* forms) const {
  auto records = tree_records(id);
  if (records.empty()) return std::nullopt;
  // Built without the lock: the forms of a large value are computed here at first (a hash).
  std::unordered_map<std::string_view, const run_record*> by_id;
  for (const auto& r : records) by_id.emplace(r->id, r.get());
  return tree_json(*records.front(), by_id, forms);
}

void run_registry::collect_locked(const std::string& id, int depth, std::vector<record_ptr>& out) const {
  auto it = entries_.find(id);
  if (it == entries_.end() || !it->second.rec) return;
  auto rec = merged_locked(it->second);
  out.push_back(rec);
  if (depth < max_run_tree_depth)
    for (const auto& c : rec->child_run_ids) collect_locked(c, depth + 1, out);
}

std::vector<record_ptr> run_registry::list(const list_filter& f) const {
  auto out = list_in_memory(f);
  if (!history_) return out;
  // Finished chains that left memory are in the store: merge, the version in memory first.
  std::unordered_set<std::string> have;
  for (const auto& r : out) have.insert(r->id);
  for (auto& r : history_->list(f))
    if (!have.count(r.id)) out.push_back(std::make_shared<const run_record>(std::move(r)));
  auto newest_first = [](const record_ptr& a, const record_ptr& b) { return a->id > b->id; };
  std::sort(out.begin(), out.end(), newest_first);
  if (out.size() > f.limit) out.resize(f.limit);
  return out;
}

std::vector<record_ptr> run_registry::list_in_memory(const list_filter& f) const {
  auto keep = [&](const run_record& r) {
    return (!f.status || r.status == *f.status) && (!f.roots_only || r.owner_run_id.empty());
  };
  auto newest_first = [](const record_ptr& a, const record_ptr& b) { return a->id > b->id; };
  std::vector<record_ptr> out;
  if (f.roots_only && f.chain_id.empty()) {
    // The index is ordered: walk it from the newest, stop at the limit.
    std::lock_guard lock(mu_);
    for (auto it = roots_.rbegin(); it != roots_.rend() && out.size() < f.limit; ++it) {
      auto e = entries_.find(*it);
      if (e != entries_.end() && e->second.rec && keep(*e->second.rec)) out.push_back(merged_locked(e->second));
    }
    return out;
  }
  {
    std::lock_guard lock(mu_);
    if (!f.chain_id.empty()) {
      collect_locked(f.chain_id, 0, out);  // one chain's tree
    } else {
      out.reserve(entries_.size());
      for (const auto& [id, e] : entries_)
        if (e.rec) out.push_back(merged_locked(e));
    }
  }
  // Filtered and sorted outside the lock that runs need.
  std::erase_if(out, [&](const record_ptr& r) { return !keep(*r) || (!f.chain_id.empty() && r->chain_id != f.chain_id); });
  auto n = std::min(out.size(), f.limit);
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), out.end(), newest_first);
  out.resize(n);
  return out;
}

std::vector<record_ptr> run_registry::snapshot_records(std::size_t recent, std::uint64_t* seq_out) const {
  std::vector<record_ptr> out;
  std::vector<std::string> cached;  // finished chains taken from memory
  {
    std::lock_guard lock(mu_);
    // Read before the records: they are current at least up to it (a later event re-applies a change).
    if (seq_out) *seq_out = log_.durable_seq();
    for (const auto& id : active_) collect_locked(id, 0, out);
    auto skip = finished_roots_.size() > recent ? finished_roots_.size() - recent : 0;
    for (auto i = skip; i < finished_roots_.size(); ++i) {
      cached.push_back(finished_roots_[i].root);
      collect_locked(finished_roots_[i].root, 0, out);
    }
  }
  if (history_ && cached.size() < recent) {
    // The cache holds fewer than asked: the newest `recent` finished chains, from memory and store.
    auto stored = history_->recent_chains(recent);
    std::vector<std::string> roots = cached;
    for (const auto& r : stored)
      if (r.owner_run_id.empty()) roots.push_back(r.id);
    std::sort(roots.begin(), roots.end(), std::greater<>());
    roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
    if (roots.size() > recent) roots.resize(recent);
    std::unordered_set<std::string> keep(roots.begin(), roots.end()), have;
    std::unordered_set<std::string> dropped(cached.begin(), cached.end());
    for (const auto& id : roots) dropped.erase(id);
    std::erase_if(out, [&](const record_ptr& r) { return dropped.count(r->chain_id) > 0; });
    for (const auto& r : out) have.insert(r->id);
    for (auto& r : stored)
      if (keep.count(r.chain_id) && !have.count(r.id)) out.push_back(std::make_shared<const run_record>(std::move(r)));
  }
  std::sort(out.begin(), out.end(), [](const record_ptr& a, const record_ptr& b) { return a->id < b->id; });
  return out;
}

std::size_t run_registry::active_chains() const {
  std::lock_guard lock(mu_);
  return active_.size();
}

std::uint64_t run_registry::seq() const {
  std::lock_guard lock(mu_);
  return seq_;
}

}  // namespace coworker

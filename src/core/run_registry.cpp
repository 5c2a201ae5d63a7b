// run_registry: records, sequence numbers, retention, the committer and subscriber threads.
#include "core/run_registry.hpp"

#include <algorithm>

namespace coworker {

// One subscriber: its own queue and thread, so its speed affects nobody else.
struct run_registry::subscription {
  std::uint64_t id;
  subscriber fn;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<event> queue;
  bool stop = false;
  bool sleeping = false;
  std::thread thread;

  void push(const std::vector<event>& batch) {
    bool wake;
    {
      std::lock_guard lock(mu);
      queue.insert(queue.end(), batch.begin(), batch.end());
      wake = sleeping;
    }
    if (wake) cv.notify_one();
  }

  void loop() {
    std::unique_lock lock(mu);
    for (;;) {
      sleeping = true;
      cv.wait(lock, [this] { return stop || !queue.empty(); });
      sleeping = false;
      if (queue.empty()) return;  // stopped and drained
      std::deque<event> batch;
      batch.swap(queue);
      lock.unlock();
      for (const auto& e : batch) {
        try {
          fn(e);
        } catch (...) {
          // A subscriber's exception is its own business; it must not end delivery.
        }
      }
      lock.lock();
    }
  }
};

run_registry::run_registry(std::string epoch, std::size_t retain_chains, std::uint64_t first_seq)
    : epoch_(std::move(epoch)), retain_chains_(retain_chains), seq_(first_seq), delivered_seq_(first_seq) {
  committer_ = std::thread([this] { commit_loop(); });
}

run_registry::~run_registry() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  commit_cv_.notify_all();
  committer_.join();
  for (auto& s : subs_) {
    {
      std::lock_guard lock(s->mu);
      s->stop = true;
    }
    s->cv.notify_all();
    s->thread.join();
  }
}

void run_registry::set_persist(persist_fn fn) {
  std::lock_guard lock(mu_);
  persist_ = std::move(fn);
}

void run_registry::add_pending(record_ptr root, const std::string& key, chain_submission submission) {
  std::lock_guard lock(mu_);
  ++active_roots_;
  if (submission.document) {
    ++chains_added_;
    pending_chains_.push_back(std::move(submission));
    if (committer_sleeping_) commit_cv_.notify_one();
  }
  if (!key.empty()) {
    keys_[key] = root->id;
    key_of_root_[root->id] = key;
  }
  auto id = root->id;
  entries_[id] = entry{std::move(root), {}};
}

void run_registry::restore(std::vector<run_record> records,
                           const std::vector<std::pair<std::string, std::string>>& keys) {
  std::sort(records.begin(), records.end(), [](const run_record& a, const run_record& b) { return a.id < b.id; });
  std::lock_guard lock(mu_);
  for (auto& r : records) {
    auto rec = std::make_shared<const run_record>(std::move(r));
    if (rec->owner_run_id.empty()) {
      if (is_final(rec->status)) {
        finished_roots_.push_back(rec->id);
      } else {
        ++active_roots_;
      }
    }
    entries_[rec->id].rec = std::move(rec);
  }
  // Children of unfinished runs, in start order (ids are time-ordered).
  for (auto& [id, e] : entries_) {
    (void)id;
    const auto& r = *e.rec;
    if (r.owner_run_id.empty()) continue;
    auto owner = entries_.find(r.owner_run_id);
    if (owner != entries_.end() && !is_final(owner->second.rec->status)) owner->second.live_children.push_back(r.id);
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
  std::lock_guard lock(mu_);
  auto it = keys_.find(key);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

void run_registry::started(record_ptr r) {
  std::lock_guard lock(mu_);
  auto& e = entries_[r->id];
  if (!r->owner_run_id.empty() && !e.rec) {  // a run resumed after a restart is listed already
    auto owner = entries_.find(r->owner_run_id);
    if (owner != entries_.end()) owner->second.live_children.push_back(r->id);
  }
  e.rec = r;
  publish_locked(event_kind::before_run, std::move(r));
}

void run_registry::finished(record_ptr r) {
  std::lock_guard lock(mu_);
  auto& e = entries_[r->id];
  if (e.rec && is_final(e.rec->status)) return;  // already ended (forced): first end wins
  if (!e.rec && !r->owner_run_id.empty()) {
    // A run that ends without starting (skipped) still belongs to its owner's children.
    auto owner = entries_.find(r->owner_run_id);
    if (owner != entries_.end()) owner->second.live_children.push_back(r->id);
  }
  e.rec = r;
  e.live_children.clear();
  e.live_children.shrink_to_fit();
  publish_locked(event_kind::after_run, r);
  if (r->owner_run_id.empty()) {
    if (active_roots_ > 0) --active_roots_;
    if (final_waiters_ > 0) final_cv_.notify_all();
    retire_locked(r->id);
  }
}

void run_registry::force_finish(const std::string& id, run_status status, const run_error& err) {
  // Children end before their owner, so the event order stays that of SPEC §6.
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
      if (depth < 256)
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

void run_registry::publish_locked(event_kind k, record_ptr r) {
  pending_.push_back(event{++seq_, epoch_, now_ms(), k, std::move(r)});
  if (committer_sleeping_) {
    committer_sleeping_ = false;
    commit_cv_.notify_one();
  }
}

void run_registry::retire_locked(const std::string& root_id) {
  finished_roots_.push_back(root_id);
  while (finished_roots_.size() > retain_chains_) {
    auto old = std::move(finished_roots_.front());
    finished_roots_.pop_front();
    if (auto k = key_of_root_.find(old); k != key_of_root_.end()) {
      keys_.erase(k->second);
      key_of_root_.erase(k);
    }
    erase_tree_locked(old, 0);
  }
}

void run_registry::erase_tree_locked(const std::string& id, int depth) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  auto rec = it->second.rec;
  entries_.erase(it);
  if (rec && depth < 256)
    for (const auto& c : rec->child_run_ids) erase_tree_locked(c, depth + 1);
}

record_ptr run_registry::merged_locked(const entry& e) const {
  if (e.live_children.empty() || !e.rec) return e.rec;
  auto r = std::make_shared<run_record>(*e.rec);
  r->child_run_ids = e.live_children;
  return r;
}

record_ptr run_registry::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : merged_locked(it->second);
}

void run_registry::tree_locked(const std::string& id, std::size_t cut, int depth, json& out) const {
  auto it = entries_.find(id);
  if (it == entries_.end() || !it->second.rec) return;
  auto rec = merged_locked(it->second);
  out = to_json(*rec, cut);
  json children = json::array();
  if (depth < 256) {
    for (const auto& c : rec->child_run_ids) {
      json child;
      tree_locked(c, cut, depth + 1, child);
      if (!child.is_null()) children.push_back(std::move(child));
    }
  }
  out["children"] = std::move(children);
}

std::optional<json> run_registry::tree(const std::string& id, std::size_t cut_bytes) const {
  std::lock_guard lock(mu_);
  json out;
  tree_locked(id, cut_bytes, 0, out);
  if (out.is_null()) return std::nullopt;
  return out;
}

std::vector<record_ptr> run_registry::list(const list_filter& f) const {
  std::lock_guard lock(mu_);
  std::vector<record_ptr> out;
  for (const auto& [id, e] : entries_) {
    if (!e.rec) continue;
    const auto& r = *e.rec;
    if (f.status && r.status != *f.status) continue;
    if (!f.chain_id.empty() && r.chain_id != f.chain_id) continue;
    if (f.roots_only && !r.owner_run_id.empty()) continue;
    out.push_back(merged_locked(e));
  }
  // Newest first: ids are time-ordered.
  std::sort(out.begin(), out.end(), [](const record_ptr& a, const record_ptr& b) { return a->id > b->id; });
  if (out.size() > f.limit) out.resize(f.limit);
  return out;
}

std::vector<record_ptr> run_registry::snapshot_records(std::size_t recent, std::uint64_t* seq_out) const {
  std::lock_guard lock(mu_);
  if (seq_out) *seq_out = seq_;
  std::vector<record_ptr> out;
  std::size_t skip = finished_roots_.size() > recent ? finished_roots_.size() - recent : 0;
  std::unordered_map<std::string, bool> dropped;
  for (std::size_t i = 0; i < skip; ++i) dropped.emplace(finished_roots_[i], true);
  for (const auto& [id, e] : entries_) {
    if (!e.rec || dropped.count(e.rec->chain_id)) continue;
    out.push_back(merged_locked(e));
  }
  std::sort(out.begin(), out.end(), [](const record_ptr& a, const record_ptr& b) { return a->id < b->id; });
  return out;
}

record_ptr run_registry::wait_final(const std::string& id, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  record_ptr r;
  ++final_waiters_;
  struct leave {
    int& n;
    ~leave() { --n; }
  } guard{final_waiters_};
  final_cv_.wait_for(lock, timeout, [&] {
    auto it = entries_.find(id);
    if (it == entries_.end()) return true;
    r = merged_locked(it->second);
    return r && is_final(r->status);
  });
  return r;
}

std::size_t run_registry::active_chains() const {
  std::lock_guard lock(mu_);
  return active_roots_;
}

std::uint64_t run_registry::seq() const {
  std::lock_guard lock(mu_);
  return seq_;
}

void run_registry::flush() const {
  std::unique_lock lock(mu_);
  auto target = seq_;
  ++delivery_waiters_;
  delivered_cv_.wait(lock, [&] { return delivered_seq_ >= target || stop_; });
  --delivery_waiters_;
}

void run_registry::wait_persisted() const {
  std::unique_lock lock(mu_);
  auto target = chains_added_;
  ++delivery_waiters_;
  delivered_cv_.wait(lock, [&] { return chains_persisted_ >= target || stop_; });
  --delivery_waiters_;
}

std::uint64_t run_registry::subscribe(subscriber s) {
  auto sub = std::make_shared<subscription>();
  sub->fn = std::move(s);
  // The thread holds its subscription, so unsubscribing from inside the callback is safe.
  sub->thread = std::thread([sub] { sub->loop(); });
  std::lock_guard lock(mu_);
  sub->id = next_sub_++;
  subs_.push_back(sub);
  return sub->id;
}

void run_registry::unsubscribe(std::uint64_t id) {
  flush();  // what was published before the call still reaches this subscriber
  std::shared_ptr<subscription> sub;
  {
    std::lock_guard lock(mu_);
    auto it = std::find_if(subs_.begin(), subs_.end(), [&](const auto& s) { return s->id == id; });
    if (it == subs_.end()) return;
    sub = *it;
    subs_.erase(it);
  }
  {
    std::lock_guard lock(sub->mu);
    sub->stop = true;
  }
  sub->cv.notify_all();
  if (sub->thread.get_id() == std::this_thread::get_id()) {
    sub->thread.detach();  // unsubscribing from inside the callback
  } else {
    sub->thread.join();
  }
}

std::size_t run_registry::subscriber_count() const {
  std::lock_guard lock(mu_);
  return subs_.size();
}

void run_registry::commit_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!stop_ && pending_.empty() && pending_chains_.empty()) {
      committer_sleeping_ = true;
      commit_cv_.wait(lock, [this] { return stop_ || !pending_.empty() || !pending_chains_.empty(); });
      committer_sleeping_ = false;
    }
    if (pending_.empty() && pending_chains_.empty()) return;
    std::vector<event> batch;
    batch.swap(pending_);
    std::vector<chain_submission> chains;
    chains.swap(pending_chains_);
    auto persist = persist_;
    auto subs = subs_;
    lock.unlock();
    if (persist) persist(batch, chains);  // commit before publish
    for (auto& c : chains)
      if (c.on_durable) c.on_durable();
    if (batch.empty()) {
      lock.lock();
      chains_persisted_ += chains.size();
      if (delivery_waiters_ > 0) delivered_cv_.notify_all();
      continue;
    }
    if (!chains.empty()) {
      lock.lock();
      chains_persisted_ += chains.size();
      lock.unlock();
    }
    for (auto& s : subs) s->push(batch);
    lock.lock();
    delivered_seq_ = batch.back().seq;
    if (delivery_waiters_ > 0) delivered_cv_.notify_all();
  }
}

}  // namespace coworker

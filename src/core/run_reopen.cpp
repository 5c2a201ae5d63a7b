// run_registry, redrive (docs/chain-language.md, "Redrive"): a finished top chain taken back into
// the active chains, its records held again, the runs that did not end well free to end once more.
#include <algorithm>

#include "core/run_registry.hpp"

namespace coworker {

std::vector<run_record> run_registry::chain_records(const std::string& root_id) const {
  std::vector<record_ptr> held;
  {
    std::lock_guard lock(mu_);
    collect_locked(root_id, 0, held);
  }
  std::vector<run_record> out;
  out.reserve(held.size());
  for (const auto& r : held) out.push_back(*r);
  return out;
}

std::shared_ptr<const void> run_registry::origin(const std::string& root_id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(root_id);
  return it == entries_.end() ? nullptr : it->second.origin;
}

expected<void> run_registry::reopen(const std::string& root_id, const std::vector<run_record>& records,
                                    chain_submission stored) {
  const auto cap = retained_budget_.load(std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(root_id); it != entries_.end() && it->second.rec && !is_final(it->second.rec->status))
    return make_error(codes::not_redrivable, "chain " + root_id + " is " +
                                                 std::string(to_string(it->second.rec->status)) +
                                                 ": only a failed or cancelled chain can be redriven");
  auto f = std::find_if(finished_roots_.begin(), finished_roots_.end(), [&](const retained& r) { return r.root == root_id; });
  if (f != finished_roots_.end()) {
    retained_bytes_ -= f->bytes;
    finished_roots_.erase(f);
  }
  std::size_t kept_bytes = 0;
  for (const auto& r : records) {
    auto& e = entries_[r.id];
    const bool well = ended_well(r);
    if (!e.first_seq) e.first_seq = first_seq_;  // read back from the store: durable
    e.live_children = well ? std::vector<std::string>{} : r.child_run_ids;  // shown while it runs again
    e.replaceable = is_final(r.status) && !well;
    if (well) kept_bytes += retained_size(r, cap);
    if (r.id != root_id) {
      e.rec = std::make_shared<const run_record>(r);
      continue;
    }
    // The root is running again from now on (as an accepted chain is): its start says so soon.
    auto root = std::make_shared<run_record>(r);
    root->status = run_status::running;
    root->finished = 0;
    root->err.reset();
    root->success = root->recovered = false;
    root->output = nullptr;
    root->redrives = r.redrives + 1;
    e.rec = std::move(root);
    e.replaceable = false;
    e.first_seq = 0;  // wait_durable waits for its new start, stored with the chain in flight again
    e.final_seq = 0;
    e.tree_bytes = 0;
  }
  auto& root = entries_[root_id];
  root.tree_bytes = kept_bytes;
  active_.insert(root_id);
  roots_.insert(root_id);
  if (stored.document) {
    pending_chains_.push_back(std::move(stored));
    if (committer_sleeping_) commit_cv_.notify_one();
  }
  return {};
}

}  // namespace coworker

// resume_plan: the recorded run tree of a chain that was in flight when the engine stopped.
#include "run/resume_plan.hpp"

#include <algorithm>

#include "coworker/limits.hpp"

namespace coworker {

resume_plan::resume_plan(const std::vector<run_record>& records) {
  for (const auto& r : records) {
    auto rec = std::make_shared<const run_record>(r);
    by_id.emplace(rec->id, rec);
    if (!rec->owner_run_id.empty()) children_of[rec->owner_run_id].push_back(rec);
  }
  for (auto& [owner, list] : children_of) {
    (void)owner;
    std::sort(list.begin(), list.end(), [](const record_ptr& a, const record_ptr& b) { return a->id < b->id; });
  }
}

record_ptr resume_plan::child(const std::string& owner, int index) const {
  auto it = children_of.find(owner);
  if (it == children_of.end()) return nullptr;
  for (auto c = it->second.rbegin(); c != it->second.rend(); ++c)
    if ((*c)->step_index == index) return *c;
  return nullptr;
}

std::shared_ptr<const export_list> resume_plan::exports_below(const std::string& id) const {
  auto out = std::make_shared<export_list>();
  std::vector<std::pair<std::string, int>> todo{{id, 0}};
  while (!todo.empty()) {
    auto [cur, depth] = todo.back();
    todo.pop_back();
    auto it = children_of.find(cur);
    if (it == children_of.end() || depth > max_run_tree_depth) continue;
    for (const auto& c : it->second) {
      if (is_final(c->status) && !c->step_id.empty()) out->emplace_back(c->step_id, c);
      todo.emplace_back(c->id, depth + 1);
    }
  }
  return out;
}

}  // namespace coworker

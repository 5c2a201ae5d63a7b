// resume_plan: the recorded run tree of a chain that was in flight when the engine stopped.
#include "run/resume_plan.hpp"

#include <algorithm>
#include <unordered_set>

#include "coworker/limits.hpp"

namespace coworker {

resume_plan::resume_plan(const std::vector<run_record>& records, bool redrive_) : redrive(redrive_) {
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
  // Below a call by name, nothing is visible to the caller (docs/chain-language.md).
  if (auto self = by_id.find(id); self != by_id.end() && !self->second->chain_name.empty() && !self->second->owner_run_id.empty())
    return out;
  std::vector<std::pair<std::string, int>> todo{{id, 0}};
  while (!todo.empty()) {
    auto [cur, depth] = todo.back();
    todo.pop_back();
    auto it = children_of.find(cur);
    if (it == children_of.end() || depth > max_run_tree_depth) continue;
    for (const auto& c : it->second) {
      if (is_final(c->status) && !c->step_id.empty()) out->emplace_back(c->step_id, c);
      if (c->chain_name.empty()) todo.emplace_back(c->id, depth + 1);
    }
  }
  return out;
}

namespace {

using chain::step_kind;

struct redrive_walk {
  const resume_plan& plan;
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;

  void step(const chain::step& s, const run_record* r, int depth) {
    if ((r && ended_well(*r)) || depth > max_run_tree_depth) return;
    if (depth > 0) {
      const auto& name = s.id.empty() ? s.pointer : s.id;
      if (seen.insert(name).second) out.push_back(name);
    }
    auto child = [&](int i) { return r ? plan.child(r->id, i).get() : nullptr; };
    switch (s.kind) {
      case step_kind::chain:
      case step_kind::parallel:
        for (std::size_t i = 0; i < s.chain_children().size(); ++i)
          step(*s.chain_children()[i], child(static_cast<int>(i)), depth + 1);
        return;
      case step_kind::for_each: {
        if (!s.body) return;
        // The first element that did not end well stands for them all (elements share their steps);
        // none recorded: the elements past the failure, never run.
        const run_record* element = nullptr;
        if (r)
          if (auto it = plan.children_of.find(r->id); it != plan.children_of.end())
            for (const auto& c : it->second)
              if (c->step_index >= 0 && !ended_well(*c)) {
                element = c.get();
                break;
              }
        step(*s.body, element, depth + 1);
        return;
      }
      case step_kind::operation:
        return;
    }
  }
};

}  // namespace

std::vector<std::string> redrive_steps(const chain::step& root, const resume_plan& plan, const std::string& root_id) {
  redrive_walk w{plan, {}, {}};
  auto it = plan.by_id.find(root_id);
  w.step(root, it == plan.by_id.end() ? nullptr : it->second.get(), 0);
  return std::move(w.out);
}

}  // namespace coworker

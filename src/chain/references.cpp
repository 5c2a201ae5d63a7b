// Walks the model in execution order keeping the set of ids that have finished ("visible"), and
// explains every reference to anything else: a later step, a parallel sibling, an enclosing step,
// an onError-only step, a forEach `as` name used outside its `do`, or nothing at all.
#include "chain/references.hpp"

#include <string>
#include <unordered_map>
#include <utility>

namespace coworker::chain::detail {

namespace {

bool inside(const std::string& p, const std::string& base) {
  return p == base || (p.size() > base.size() && p.compare(0, base.size(), base) == 0 && p[base.size()] == '/');
}

class checker {
 public:
  explicit checker(std::vector<error>& errors) : errors_(errors) {}

  void index(const step& s, const std::string& handler) {
    if (!s.id.empty()) {
      defined_at_.emplace(s.id, s.pointer);
      if (!handler.empty()) handler_of_.emplace(s.id, handler);
    }
    if (s.kind == step_kind::for_each && !s.as.empty()) as_at_.emplace(s.as, s.pointer);
    if (s.call && !s.id.empty()) calls_.emplace(s.id, s.call.get());
    for (const auto& c : s.children)
      if (c) index(*c, handler);
    if (s.body) index(*s.body, handler);
    if (s.on_error) index(*s.on_error, s.on_error->pointer);
  }

  void visit(const step& s) {
    if (s.when)
      for (const auto& r : s.when->references()) check(s, r);
    if (s.has_input)
      for (const auto& r : s.input.references()) check(s, r);
    if (s.kind == step_kind::for_each)
      for (const auto& r : s.for_each.references()) check(s, r);

    const auto mark = visible_.size();
    ancestors_.push_back(&s);
    switch (s.kind) {
      case step_kind::operation: break;
      case step_kind::chain:
        for (const auto& c : s.children)
          if (c) visit(*c);
        break;
      case step_kind::parallel: {
        // Members start together: none sees another; all are visible after the group.
        std::vector<std::string> added;
        for (const auto& m : s.children) {
          if (!m) continue;
          groups_.emplace_back(&s, m.get());
          visit(*m);
          groups_.pop_back();
          for (auto i = mark; i < visible_.size(); ++i) added.push_back(visible_[i]);
          truncate(mark);
        }
        for (auto& id : added) push(std::move(id));
        break;
      }
      case step_kind::for_each:
        if (s.body) {
          bound_.push_back(s.as);
          visit(*s.body);
          bound_.pop_back();
        }
        break;
    }
    ancestors_.pop_back();

    if (s.on_error) {
      // The fallback sees what the failed step saw, the failed step itself, and `error`.
      std::vector<std::string> inner(visible_.begin() + static_cast<std::ptrdiff_t>(mark), visible_.end());
      truncate(mark);
      if (!s.id.empty()) push(s.id);
      ++in_on_error_;
      owners_.push_back(&s);
      visit(*s.on_error);
      owners_.pop_back();
      --in_on_error_;
      truncate(mark);
      for (auto& id : inner) push(std::move(id));
    }
    if (!s.id.empty()) push(s.id);
  }

 private:
  void push(std::string id) {
    ++count_[id];
    visible_.push_back(std::move(id));
  }
  void truncate(std::size_t n) {
    while (visible_.size() > n) {
      auto it = count_.find(visible_.back());
      if (it != count_.end() && --it->second == 0) count_.erase(it);
      visible_.pop_back();
    }
  }

  static std::string who(const step& s) {
    if (!s.id.empty()) return "step '" + s.id + "'";
    if (s.pointer.empty()) return "the chain";
    return "the step at " + s.pointer;
  }

  void check(const step& s, const tmpl::reference& ref) {
    const auto& r = ref.p.root;
    if (r == "prev" || r == "input") return;
    if (r == "error") {
      if (in_on_error_ == 0)
        fail(s, ref, "'error', which exists only inside onError (the error of the failed step)");
      return;
    }
    for (const auto& b : bound_)
      if (b == r) return;
    if (count_.count(r)) {
      // A call by name promises its output's shape (outputSchema): a read outside it fails now.
      if (auto c = calls_.find(r); c != calls_.end())
        if (auto what = output_mismatch(*c->second, ref.p); !what.empty()) fail(s, ref, what);
      return;
    }
    fail(s, ref, explain(s, r));
  }

  std::string explain(const step& s, const std::string& r) const {
    const std::string q = "'" + r + "'";
    if (r == s.id) return q + ", itself; a step sees only steps that finished before it starts";
    for (const auto* a : ancestors_)
      if (a->id == r) return q + ", an enclosing step that has not finished when this step starts";
    auto def = defined_at_.find(r);
    if (def != defined_at_.end()) {
      for (auto g = groups_.rbegin(); g != groups_.rend(); ++g) {
        const auto& [group, member] = *g;
        if (inside(def->second, group->pointer + "/operations") && !inside(def->second, member->pointer)) {
          bool direct = false;
          for (const auto& m : group->children)
            if (m && m->id == r) direct = true;
          return q + (direct ? ", a member of the same parallel group, which runs at the same time"
                             : ", defined in another member of the same parallel group, which runs at the same time");
        }
      }
      for (const auto* o : owners_)
        if (inside(def->second, o->pointer) && !inside(def->second, o->on_error->pointer))
          return q + ", which is inside the failed step at " + o->pointer +
                 "; onError sees the failed step only as a whole ({{prev}})";
      auto h = handler_of_.find(r);
      if (h != handler_of_.end() && !inside(s.pointer, h->second))
        return q + ", which is defined inside the onError handler at " + h->second + " and runs only on failure";
      return q + ", which is defined later at " + def->second;
    }
    auto as = as_at_.find(r);
    if (as != as_at_.end())
      return q + ", the 'as' name of the forEach at " + as->second + ", which is bound only inside its 'do'";
    return q + ", which no earlier step defines";
  }

  void fail(const step& s, const tmpl::reference& ref, const std::string& what) {
    errors_.push_back(make_error(codes::unknown_reference, who(s) + " refers to " + what, ref.pointer));
  }

  std::vector<error>& errors_;
  std::unordered_map<std::string, std::string> defined_at_;
  std::unordered_map<std::string, std::string> handler_of_;
  std::unordered_map<std::string, std::string> as_at_;
  std::unordered_map<std::string, const chain_ref*> calls_;  ///< step id → the chain it calls by name
  std::vector<std::string> visible_;
  std::unordered_map<std::string, int> count_;
  std::vector<const step*> ancestors_;
  std::vector<std::pair<const step*, const step*>> groups_;
  std::vector<std::string> bound_;
  std::vector<const step*> owners_;  ///< steps whose onError is being visited
  int in_on_error_ = 0;
};

}  // namespace

void check_references(const step& root, std::vector<error>& errors) {
  checker c(errors);
  c.index(root, "");
  c.visit(root);
}

}  // namespace coworker::chain::detail

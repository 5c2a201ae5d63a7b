// A deterministic carrier of run::machine for the tests: it does what actors/run_actor.cpp does —
// spawn children, deliver messages, fire timers, call operations, record what is published — with
// one mailbox in FIFO order, a clock that moves only when the test says so, and operation answers
// chosen by the test. No threads, no sleeps: the same test gives the same trace every time.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "chain/compile.hpp"
#include "chain/json_parse.hpp"
#include "run/machine.hpp"

namespace coworker::sim {

/// A call to an operation that waits for the test's answer (simulator::reply).
struct pending_call {
  std::string run_id;
  std::uint64_t attempt = 0;
  op_request request;
};

class simulator {
 public:
  /// How an operation answers when called: a value or an error at once, or nullopt to leave the
  /// call pending for the test to answer.
  using answer_fn = std::function<std::optional<expected<json>>(const op_request&)>;

  explicit simulator(limits lim = {}) {
    cfg_.lim = lim;
    cfg_.cancel_grace_ms = 2000;
    cfg_.new_id = [this] {
      char buf[32];
      std::snprintf(buf, sizeof buf, "run-%06d", ++ids_);
      return std::string(buf);
    };
    answer = [](const op_request& r) -> std::optional<expected<json>> { return r.in(); };  // echo
  }

  answer_fn answer;
  std::set<std::string> unknown_ops;  ///< operations nobody serves
  std::set<std::string> deaf;         ///< runs that ignore cancels (as a stuck actor would)
  std::int64_t now = 1'000'000;

  /// Submits a chain (JSON text); returns the top run's id once every message has been handled.
  std::string submit(const std::string& chain_text, std::uint64_t seed = 42,
                     std::shared_ptr<const resume_plan> resume = nullptr, std::string id = {}, std::int64_t start_at = 0) {
    chain::compile_options opts;
    opts.lim = cfg_.lim;
    auto compiled = chain::compile_chain_text(chain_text, opts);
    BOOST_REQUIRE_MESSAGE(compiled.ok(), "the test chain does not compile: " +
                                             (compiled.errors.empty() ? "" : compiled.errors.front().message));
    run::placement p;
    p.step = compiled.doc->root;
    p.id = id.empty() ? cfg_.new_id() : id;
    p.chain_id = p.id;
    p.seed = seed;
    p.start_at = start_at;
    if (resume)  // what the store held is known before the chain resumes, as in the registry
      for (const auto& [rid, r] : resume->by_id)
        if (!records_.count(rid)) publish(r);
    p.resume = std::move(resume);
    auto top = p.id;
    add(std::move(p), {});
    settle();
    return top;
  }

  /// Redrives chain `id` (submitted before, ended) as the engine does: its records become a redrive
  /// plan, and the runs that did not end well may end again (run_registry::reopen).
  std::string redrive(const std::string& chain_text, const std::string& id) {
    std::vector<run_record> recs;
    for (const auto& [rid, r] : records_)
      if (r->chain_id == id) {
        recs.push_back(*r);
        if (!ended_well(*r)) reopened_.insert(rid);
      }
    return submit(chain_text, 42, std::make_shared<const resume_plan>(recs, true), id);
  }
  /// The plan a redrive of chain `id` would follow (to ask redrive_steps).
  std::shared_ptr<const resume_plan> redrive_plan(const std::string& id) const {
    std::vector<run_record> recs;
    for (const auto& [rid, r] : records_)
      if (r->chain_id == id) recs.push_back(*r);
    return std::make_shared<const resume_plan>(recs, true);
  }

  /// Submits a chain that starts at `start_at` (startAt).
  std::string submit_at(const std::string& chain_text, std::int64_t start_at) {
    return submit(chain_text, 42, nullptr, {}, start_at);
  }

  /// Handles messages until none is left (time does not move).
  void settle() {
    for (int guard = 0; !mailbox_.empty(); ++guard) {
      BOOST_REQUIRE_MESSAGE(guard < 1'000'000, "the runs keep sending messages: a loop");
      auto [to, ev] = std::move(mailbox_.front());
      mailbox_.pop_front();
      deliver(to, std::move(ev));
    }
  }

  /// Moves the clock `ms` forward, firing the timers that fall due on the way, in order.
  void advance(std::int64_t ms) {
    const auto until = now + ms;
    while (!timers_.empty() && timers_.begin()->first.first <= until) {
      auto it = timers_.begin();
      now = it->first.first;
      auto [to, ev] = std::move(it->second);
      timers_.erase(it);
      deliver(to, std::move(ev));
      settle();
    }
    now = until;
  }

  /// Fires every timer there is, however far (bounded, to catch a loop).
  void run_timers() {
    for (int guard = 0; !timers_.empty(); ++guard) {
      BOOST_REQUIRE_MESSAGE(guard < 100'000, "timers keep coming: a loop");
      advance(timers_.begin()->first.first - now);
    }
  }

  /// Answers the oldest pending call of `run_id`.
  void reply(const std::string& run_id, expected<json> result) {
    for (auto it = calls.begin(); it != calls.end(); ++it) {
      if (it->run_id != run_id) continue;
      auto attempt = it->attempt;
      calls.erase(it);
      post(run_id, run::operation_answered{attempt, std::move(result), true});
      settle();
      return;
    }
    BOOST_FAIL("no pending call of " + run_id);
  }
  /// Answers a call the machine no longer waits for (a late answer of attempt `attempt`).
  void late_reply(const std::string& run_id, std::uint64_t attempt, expected<json> result) {
    post(run_id, run::operation_answered{attempt, std::move(result), true});
    settle();
  }

  /// Cancels `run_id` the way the engine does: through its top chain.
  void cancel(const std::string& run_id) {
    post(top_of(run_id), run::cancel_asked{run_id});
    settle();
  }

  // --- what a test looks at -----------------------------------------------------------------------

  /// The published state of a run (first end wins, as in the registry).
  const run_record& rec(const std::string& id) const {
    auto it = records_.find(id);
    BOOST_REQUIRE_MESSAGE(it != records_.end(), "no record of " + id);
    return *it->second;
  }
  bool has(const std::string& id) const { return records_.count(id) > 0; }
  /// The ids of the runs of a step (by step id), in start order.
  std::vector<std::string> runs_of(const std::string& step_id) const {
    std::vector<std::string> out;
    for (const auto& id : order_)
      if (records_.at(id)->step_id == step_id) out.push_back(id);
    return out;
  }
  /// The one run of a step id (fails the test when there is not exactly one).
  std::string run_of(const std::string& step_id) const {
    auto all = runs_of(step_id);
    BOOST_REQUIRE_MESSAGE(all.size() == 1, "step '" + step_id + "' has " + std::to_string(all.size()) + " runs");
    return all.front();
  }
  const run::machine& machine(const std::string& id) const { return *runs_.at(id).m; }
  /// Every action of every run, as one line each ("run-000002 timer retry 200"), in order.
  std::vector<std::string> trace;
  std::vector<pending_call> calls;  ///< calls waiting for reply()
  std::vector<run::force_end> forced;
  int released = 0;  ///< release_operation actions seen

  std::vector<std::int64_t> timer_delays(run::timer which) const {
    std::vector<std::int64_t> out;
    for (const auto& [which_, delay] : timers_asked_)
      if (which_ == which) out.push_back(delay);
    return out;
  }
  std::size_t in_flight(const std::string& op) const {
    std::size_t n = 0;
    for (const auto& c : calls) n += c.request.operation == op;
    return n;
  }

 private:
  struct node {
    std::unique_ptr<run::machine> m;
    std::string owner;
  };

  void add(run::placement p, std::string owner) {
    auto id = p.id;
    runs_[id] = node{std::make_unique<run::machine>(std::move(p), cfg_), std::move(owner)};
    post(id, run::start{});
  }
  void post(const std::string& to, run::event ev) { mailbox_.emplace_back(to, std::move(ev)); }

  std::string top_of(std::string id) const {
    for (auto it = runs_.find(id); it != runs_.end() && !it->second.owner.empty(); it = runs_.find(id))
      id = it->second.owner;
    return id;
  }

  void deliver(const std::string& to, run::event ev) {
    auto it = runs_.find(to);
    if (it == runs_.end() || it->second.m->ended()) return;  // an actor that ended drops its mail
    if (deaf.count(to) && std::holds_alternative<run::cancel_asked>(ev)) return;
    std::vector<run::action> out;
    it->second.m->handle(std::move(ev), now, out);
    for (auto& a : out) carry(to, a);
  }

  void carry(const std::string& self, run::action& a) {
    auto& n = runs_.at(self);
    std::visit(
        [&](auto& x) {
          using A = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<A, run::spawn_child>) {
            trace.push_back(self + " spawn " + x.child.id);
            add(std::move(x.child), self);
          } else if constexpr (std::is_same_v<A, run::call_operation>) {
            trace.push_back(self + " call " + x.request.operation + " #" + std::to_string(x.request.attempt));
            if (unknown_ops.count(x.request.operation)) {
              post(self, run::operation_missing{x.attempt});
            } else if (auto r = answer(x.request)) {
              post(self, run::operation_answered{x.attempt, std::move(*r), true});
            } else {
              calls.push_back(pending_call{self, x.attempt, std::move(x.request)});
            }
          } else if constexpr (std::is_same_v<A, run::release_operation>) {
            trace.push_back(self + " release");
            ++released;
            std::erase_if(calls, [&](const pending_call& c) { return c.run_id == self; });
          } else if constexpr (std::is_same_v<A, run::start_timer>) {
            static const char* names[] = {"timeout", "retry", "drain", "start"};
            trace.push_back(self + " timer " + names[static_cast<int>(x.which)] + " " + std::to_string(x.delay_ms));
            timers_asked_.emplace_back(x.which, x.delay_ms);
            timers_.emplace(std::make_pair(now + x.delay_ms, ++timer_seq_),
                            std::make_pair(self, run::event{run::timer_fired{x.which, x.token}}));
          } else if constexpr (std::is_same_v<A, run::cancel_child>) {
            const auto& child = n.m->children().at(x.index).id;
            trace.push_back(self + " cancel " + child + (x.below.empty() ? "" : " below " + x.below));
            post(child, run::cancel_asked{x.below});
          } else if constexpr (std::is_same_v<A, run::publish_start>) {
            trace.push_back(self + " started");
            publish(x.record);
          } else if constexpr (std::is_same_v<A, run::publish_update>) {
            trace.push_back(self + " " + std::string(to_string(x.record->status)));
            publish(x.record);
          } else if constexpr (std::is_same_v<A, run::force_end>) {
            trace.push_back(self + " force " + x.run_id);
            forced.push_back(x);
            auto it = records_.find(x.run_id);
            if (it != records_.end() && !is_final(it->second->status)) {
              auto r = std::make_shared<run_record>(*it->second);
              r->status = x.status;
              r->err = x.error;
              r->finished = now;
              it->second = std::move(r);
            }
          } else if constexpr (std::is_same_v<A, run::end_run>) {
            trace.push_back(self + " end " + std::string(to_string(x.record->status)));
            publish(x.record);
            if (!n.owner.empty()) post(n.owner, run::child_ended{x.record, x.exports});
          }
        },
        a);
  }

  void publish(const record_ptr& r) {
    auto it = records_.find(r->id);
    if (it == records_.end()) {
      order_.push_back(r->id);
      records_[r->id] = r;
    } else if (!is_final(it->second->status) || reopened_.erase(r->id)) {
      it->second = r;  // first end wins (a redriven run's first new record replaces its end)
    }
  }

  run::settings cfg_;
  int ids_ = 0;
  std::map<std::string, node> runs_;
  std::deque<std::pair<std::string, run::event>> mailbox_;
  std::map<std::pair<std::int64_t, std::uint64_t>, std::pair<std::string, run::event>> timers_;
  std::uint64_t timer_seq_ = 0;
  std::vector<std::pair<run::timer, std::int64_t>> timers_asked_;
  std::map<std::string, record_ptr> records_;
  std::set<std::string> reopened_;  ///< redriven runs whose old end has not been replaced yet
  std::vector<std::string> order_;
};

}  // namespace coworker::sim

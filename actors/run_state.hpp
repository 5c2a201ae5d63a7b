// The state of a run actor and the functions its behavior is made of, shared by the files that
// implement it: run_actor.cpp (the behavior, attempts, ending), run_children.cpp (chains, groups,
// forEach, fallbacks) and run_operation.cpp (calling a handler). Internal to actors/.
#pragma once

#include <unordered_map>

#include "atoms.hpp"
#include "engine_core.hpp"

namespace coworker::run_detail {

using chain::step_kind;

enum class phase { running, draining, waiting_retry, fallback, done };

struct child_slot {
  std::string id;
  caf::actor actor;
  record_ptr result;
  std::shared_ptr<const export_list> exports;
  bool done = false;
};

struct run_state {
  run_spec spec;
  const chain::step* step = nullptr;
  run_record rec;
  phase ph = phase::running;
  bool cancelling = false;
  bool adopting = false;    ///< resuming after a restart: take recorded children instead of rerunning
  bool counted = false;     ///< the coming attempt is already counted in rec.attempts
  int worker_losses = 0;    ///< attempts restarted because their remote worker was lost
  std::uint64_t token = 0;  ///< the current attempt; stale timers and answers carry older ones
  std::uint64_t drain_token = 0;
  value_ptr input;
  std::optional<run_error> failure;
  responder resp;

  // Children of the current attempt (and the fallback).
  std::vector<child_slot> slots;
  std::unordered_map<std::string, std::size_t> slot_of;
  std::size_t active = 0;
  std::size_t next = 0;

  // Chains: the names their steps see, and the flow.
  std::shared_ptr<frame> local;
  record_ptr prev;
  value_ptr pipe;
  // forEach: the items.
  value_ptr items;
  std::size_t element_width = 1;  ///< the width of this forEach's elements (core/element_budget.hpp)

  static inline const char* name = "coworker.run";

  run_state() = default;
  run_state(const run_state&) = delete;
  run_state& operator=(const run_state&) = delete;
  /// The actor is gone: when it did not end through finish() (it was killed, or died past its
  /// exception handler), its children go with it and its parent hears of a failed run. This
  /// replaces a monitor per child (docs/engine.md).
  ~run_state();
};

using run_actor = caf::stateful_actor<run_state>;

caf::behavior run_behavior(run_actor* self, run_spec spec);

// run_actor.cpp
run_error make_run_error(const run_state& st, std::string code, std::string message, std::string path = {});
run_error error_of(const run_record& r);
std::string step_label(const run_state& st);
void finish(run_actor* self, run_status status);
void resolve_failure(run_actor* self);  ///< the attempt is over with st.failure, no child active
void drain(run_actor* self);            ///< cancels the active children, bounded by cancel_grace
void attempt_failed(run_actor* self, run_error err);
void begin_attempt(run_actor* self);
void fail_final(run_actor* self);

// run_children.cpp
std::size_t spawn_child(run_actor* self, const chain::step_ptr& step, int index, std::string parent_run_id,
                        std::shared_ptr<const frame> scope, record_ptr prev, value_ptr pipe,
                        std::size_t width = 0);
bool ended_well(const run_record& r);
void start_next_chain_child(run_actor* self);
void start_next_element(run_actor* self);
void complete_members(run_actor* self);
void on_child_done(run_actor* self, run_result res);
void cancel_below(run_actor* self, const std::string& run_id);
void on_drained(run_actor* self, std::uint64_t tok);

// run_operation.cpp
std::int64_t attempt_timeout_ms(const run_state& st);
void on_op_result(run_actor* self, std::uint64_t tok, expected<json> result);
void run_operation(run_actor* self);

}  // namespace coworker::run_detail

// A run's life as a state machine (docs/architecture.md): one run — an operation step, a nested
// chain, a parallel group or a forEach — with its `if`, input, attempts, retries, timeout, onError
// fallback and cancel. An event comes in (started, a child ended, an operation answered, a timer
// fired, a cancel was asked), the machine changes its state and says what must happen next as a
// list of actions (spawn child k, call the operation, start a timer, publish the record, end).
//
// No actors, no clocks, no I/O: the time comes in with each event, run ids from the settings, the
// retry jitter from a seeded generator. Whoever carries the actions (actors/run_actor.cpp in the
// engine, tests/unit/run/simulator.hpp in the tests) decides nothing. The machine alone keeps its
// children's bookkeeping: their ids, which are active, their results.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "chain/model.hpp"
#include "core/frame.hpp"
#include "core/trace_context.hpp"
#include "coworker/limits.hpp"
#include "coworker/operation.hpp"
#include "run/resume_plan.hpp"

namespace coworker::run {

/// What every run of one engine shares, fixed while runs use it.
struct settings {
  limits lim;
  std::int64_t cancel_grace_ms = 2000;  ///< how long a cancelled attempt waits for its children
  std::function<std::string()> new_id;  ///< run ids; ordered by creation (new_run_id in an engine)
};

/// Where a run stands in its chain: fixed when it is created.
struct placement {
  chain::step_ptr step;
  std::string id;
  std::string chain_id;
  std::string parent_run_id;
  std::string owner_run_id;            ///< empty: a top chain
  int step_index = -1;
  std::shared_ptr<const frame> scope;  ///< names visible to this step's templates
  record_ptr prev;                     ///< `prev`
  value_ptr pipe;                      ///< the default input
  std::shared_ptr<const resume_plan> resume;  ///< set when the chain resumes after a restart
  /// How many copies of this run the chain may have in flight at once (run/element_budget.hpp).
  std::size_t width = 1;
  std::uint64_t seed = 0;  ///< the retry jitter's generator; children get seeds drawn from it
  /// A top chain's later start (ms since the epoch; startAt): `scheduled` until then. 0: at once.
  std::int64_t start_at = 0;
  std::int64_t created = 0;  ///< a top chain's creation, as its accepted record says (0: now)
  /// The chain's trace (docs/tracing.md); null: not traced. Every run of the chain shares it.
  std::shared_ptr<const trace_context> trace;
};

// --- events in ----------------------------------------------------------------------------------

struct start {};
/// A child ended (or was taken, finished, from the resume plan).
struct child_ended {
  record_ptr record;
  std::shared_ptr<const export_list> exports;  ///< step ids it makes visible to later steps
};
/// The operation of attempt `attempt` answered. `still_served`: someone still serves the
/// operation (a new attempt may go to another worker when the one holding it was lost).
struct operation_answered {
  std::uint64_t attempt = 0;
  expected<json> result = json();
  bool still_served = true;
};
/// Nobody serves the operation attempt `attempt` asked for.
struct operation_missing {
  std::uint64_t attempt = 0;
};
enum class timer { attempt_timeout, retry, drain, start };
struct timer_fired {
  timer which = timer::attempt_timeout;
  std::uint64_t token = 0;  ///< stale timers carry an older token and are ignored
};
/// Cancel this run (`run_id` empty or this run's id) or the run `run_id` somewhere below it.
struct cancel_asked {
  std::string run_id;
};
/// The carrier failed while handling an event (a bug): the run ends failed, `internal`.
struct crashed {
  std::string what;
};
using event = std::variant<start, child_ended, operation_answered, operation_missing, timer_fired, cancel_asked, crashed>;

// --- actions out --------------------------------------------------------------------------------

/// Start a child run; `index` is its place in children().
struct spawn_child {
  std::size_t index = 0;
  placement child;
};
/// Call the operation; answer with operation_answered{attempt} (or operation_missing{attempt}).
struct call_operation {
  std::uint64_t attempt = 0;
  op_request request;
};
/// The operation's answer is no longer wanted (timed out, failed, cancelled).
struct release_operation {};
struct start_timer {
  timer which = timer::attempt_timeout;
  std::int64_t delay_ms = 0;
  std::uint64_t token = 0;
};
/// Ask child `index` to cancel; `below` set: to cancel that run somewhere under it.
struct cancel_child {
  std::size_t index = 0;
  std::string below;
};
/// The run started: its record (status running) is published.
struct publish_start {
  record_ptr record;
};
/// The run changed while it runs (an await step now waits; it waits for a retry, or the retry
/// began): its record is published, so the store has its status and due times.
struct publish_update {
  record_ptr record;
};
/// End a run that did not end by itself: a child that ignored its cancel, or a run recorded
/// before a restart that the resumed chain did not take up again.
struct force_end {
  std::string run_id;
  run_status status = run_status::cancelled;
  run_error error;
};
/// The run ended: publish its final record and tell the owner (with the names it exports).
struct end_run {
  record_ptr record;
  std::shared_ptr<const export_list> exports;
};
using action = std::variant<spawn_child, call_operation, release_operation, start_timer, cancel_child,
                            publish_start, publish_update, force_end, end_run>;

/// Where a machine's actions go, in the order it decides them. A carrier may carry each out as it
/// comes (the run actor does: a forEach's first element starts while the machine still decides the
/// others) or collect them (action_list) and carry them out afterwards; either way the actions
/// never call back into the machine: what they cause comes back as a later event.
class action_sink {
 public:
  virtual void add(action a) = 0;

 protected:
  ~action_sink() = default;
};

/// Collects the actions of one event.
class action_list final : public action_sink {
 public:
  explicit action_list(std::vector<action>& out) : out_(out) {}
  void add(action a) override { out_.push_back(std::move(a)); }

 private:
  std::vector<action>& out_;
};

// --- the machine --------------------------------------------------------------------------------

enum class phase { idle, scheduled, running, draining, waiting_retry, fallback, done };
const char* to_string(phase p);

/// One child of the run, in start order across attempts (and the fallback, last).
struct child {
  std::string id;  ///< moved into the final record's childRunIds when the run ends
  record_ptr result;  ///< its final record (kept for the current attempt only)
  std::shared_ptr<const export_list> exports;
  bool done = false;
  bool spawned = false;  ///< a spawn_child was asked (a child taken from the resume plan has none)
};

class machine {
 public:
  machine(placement where, const settings& cfg);
  machine(const machine&) = delete;
  machine& operator=(const machine&) = delete;

  /// Handles one event at time `now` (ms since the epoch); the actions go to `out`, in order.
  void handle(event ev, std::int64_t now, action_sink& out);
  /// The same, appending the actions to `out`.
  void handle(event ev, std::int64_t now, std::vector<action>& out) {
    action_list list(out);
    handle(std::move(ev), now, list);
  }

  /// The run's record as it stands; once ended, only its id and status (the final record went out
  /// with end_run).
  const run_record& record() const { return rec_; }
  phase current() const { return ph_; }
  bool ended() const { return ph_ == phase::done; }
  /// Where the run stands: its step, scope and flow (its ids are in record() once started).
  const placement& where() const { return at_; }
  const std::vector<child>& children() const { return children_; }
  std::size_t active() const { return active_; }
  std::uint64_t attempt_token() const { return token_; }
  bool cancelling() const { return cancelling_; }
  /// The attempt's timeout: options.timeoutMs, else for an operation step the engine's default
  /// (limits.stepTimeoutMs; limits.signalKeepMs for an await step), so that a handler that never
  /// returns cannot keep a run; 0: none.
  std::int64_t attempt_timeout_ms() const;

 private:
  // Each of these is a rule of docs/chain-language.md; machine.cpp tells which.
  void on_start();
  void begin_run(bool fresh);  ///< `fresh`: not taken up from a restart's records
  void begin_attempt();
  void run_operation();
  void on_answer(operation_answered& a);
  void attempt_failed(run_error err);
  void resolve_failure();
  void fail_final();
  void drain();
  void on_drain_expired(std::uint64_t token);
  void cancel();
  void cancel_below(const std::string& run_id);
  void finish(run_status status);
  void spawn(const chain::step_ptr& step, int index, std::string parent_run_id, std::shared_ptr<const frame> scope,
             record_ptr prev, value_ptr pipe, std::size_t width = 0);
  void on_child_ended(child_ended ended);
  void on_fallback_ended(const run_record& r);
  void start_next_chain_child();
  void start_next_elements();
  void complete_members();
  void remember(const record_ptr& r, const std::shared_ptr<const export_list>& exports);
  void release();
  void emit(action a) { out_->add(std::move(a)); }
  run_error error_here(std::string code, std::string message, std::string path = {}) const;
  std::string label() const;
  std::uint64_t draw();  ///< the next number of the seeded generator (splitmix64)
  bool has_current(std::size_t i) const { return i >= first_ && i < children_.size(); }

  placement at_;
  const settings& cfg_;
  const chain::step& step_;
  run_record rec_;
  phase ph_ = phase::idle;
  bool cancelling_ = false;
  bool adopting_ = false;  ///< resuming after a restart: take recorded children instead of rerunning
  bool counted_ = false;   ///< the coming attempt is already counted in rec_.attempts
  bool calling_ = false;   ///< an operation call of the current attempt is out
  int worker_losses_ = 0;  ///< attempts restarted because their remote worker was lost
  std::uint64_t token_ = 0;        ///< the current attempt
  std::uint64_t drain_token_ = 0;  ///< the current drain
  std::uint64_t rng_;
  std::int64_t resumed_attempt_started_ = 0;  ///< the stored start of an attempt resumed after a restart
  value_ptr input_;
  std::optional<run_error> failure_;

  std::vector<child> children_;
  std::unordered_map<std::string, std::size_t> index_of_;
  std::size_t first_ = 0;   ///< the current attempt's (or the fallback's) first child
  std::size_t active_ = 0;  ///< current children not ended
  std::size_t next_ = 0;    ///< the next chain step or forEach element to start

  std::shared_ptr<frame> local_;  ///< a nested chain's names: its input and its finished steps
  record_ptr prev_;               ///< a nested chain's `prev` for the next step
  value_ptr pipe_;                ///< a nested chain's default input for the next step
  value_ptr items_;               ///< a forEach's items
  std::size_t element_width_ = 1;

  // While handle() runs: where actions go, the time, children taken from the resume plan.
  action_sink* out_ = nullptr;
  std::int64_t now_ = 0;
  std::vector<child_ended> adopted_;
};

}  // namespace coworker::run

// engine::impl: what one engine owns (the actor system, the registry, the store, the operations,
// the signal board, the pools) and how it starts, resumes and stops. Only actors/engine*.cpp see it;
// the public API is include/coworker/engine.hpp.
#pragma once

#include "coworker/engine.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <thread>

#include <caf/all.hpp>

#include "atoms.hpp"
#include "ops/engine_ops.hpp"
#include "chain/compile.hpp"
#include "chain/json_parse.hpp"
#include "core/blob.hpp"
#include "core/histogram.hpp"
#include "core/trace_context.hpp"
#include "core/value_forms.hpp"
#include "engine_core.hpp"
#include "llm_ops.hpp"
#include "ops/builtin.hpp"
#include "core/chain_library.hpp"
#include "core/schedule_book.hpp"
#include "core/signal_board.hpp"
#include "runs/definition_store.hpp"
#include "runs/retention.hpp"
#include "cluster/lease_book.hpp"
#include "cluster/lease_keeper.hpp"
#include "cluster/node_mail.hpp"
#include "cluster/node_registry.hpp"
#include "runs/run_store.hpp"
#include "runs/schedule_store.hpp"
#include "runs/signal_store.hpp"
#include "core/thread_name.hpp"
#include "store/database.hpp"

namespace coworker {

namespace engine_detail {

/// CAF's scheduler threads are named `cw-actors` (docs/architecture.md, "Threads"): CAF 0.17 names
/// them `caf.multiplexer`, as it does its network thread, which the engine does not start. Its
/// timer thread keeps `caf.clock`.
class actor_thread_names : public caf::thread_hook {
 public:
  void init(caf::actor_system&) override {}
  void thread_started() override {
    char name[16] = {};
    if (pthread_getname_np(pthread_self(), name, sizeof name) == 0 && std::string_view(name) == "caf.multiplexer")
      name_thread("cw-actors");
  }
  void thread_terminates() override {}
};

inline caf::actor_system_config& configure(caf::actor_system_config& cfg, const engine_config& c) {
  cfg.add_thread_hook<actor_thread_names>();
  auto threads = c.threads ? c.threads : std::max(1u, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", threads);
  cfg.set("scheduler.policy", c.scheduler_policy == "stealing" ? caf::atom("stealing") : caf::atom("sharing"));
  return cfg;
}

/// How often kept signals expire and awaits that stopped waiting are forgotten (signal_board::sweep).
inline constexpr std::chrono::seconds signal_sweep_every{10};

/// The committer asks for a retention pass once per this many transactions.
inline constexpr std::uint64_t store_retention_batches = 1024;

/// A node's name when none is configured: the host name and the process id.
inline std::string default_node_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "node");
  return std::string(host) + "-" + std::to_string(getpid());
}

inline std::string new_epoch() {
  // The first 26 characters after "run-" of a fresh id: unique per engine start, time-ordered.
  return "ep-" + new_run_id().substr(4);
}

}  // namespace engine_detail

/// What a chain was started from, kept with its records in memory mode (run_registry::origin): a
/// redrive starts it again from there. A durable engine reads the stored chain instead.
struct chain_origin {
  chain::step_ptr root;  ///< the root step as started (its own input dropped when one was given)
  value_ptr pipe;        ///< the input given with the chain, or null
};

struct engine::impl {
  engine_config cfg;
  std::optional<error> startup_error;
  std::unique_ptr<cluster::lease_book> leases;  // on PostgreSQL: the partitions this node owns (before runs: it uses it)
  std::unique_ptr<run_store> runs;  // the durable run store, when db_path is set
  std::unique_ptr<history_pruner> pruner;  // its retention, on a thread of its own
  std::shared_ptr<store::document_store> docs;
  std::shared_ptr<run_registry> registry;
  std::unique_ptr<value_forms> forms;  // values as the store, events and replies carry them (blobs)
  operation_table ops;
  std::unique_ptr<signal_store> signal_rows;  // kept signals, in durable mode
  std::unique_ptr<signal_board> signals;      // awaits and signals (docs/chain-language.md, "await")
  std::unique_ptr<schedule_store> schedule_rows;  // schedules, in durable mode
  chain_library library;                          // published chains (actors/engine_chains.cpp)
  std::unique_ptr<definition_store> definition_rows;  // published chains, in durable mode
  std::mutex publish_mu;                          // one publish at a time: versions in order
  schedule_book schedules;                    // guarded by schedule_mu (actors/engine_schedules.cpp)
  mutable std::mutex schedule_mu;
  timer_service::id schedule_timer = 0;
  std::int64_t schedule_timer_at = 0;
  bool stopping = false;  // guarded by schedule_mu: no more schedule ticks
  std::unique_ptr<timer_service> timers;
  std::unique_ptr<thread_pool> blocking;
  engine_core core;
  std::mutex submit_mu;  // makes "find key, else start" one step
  std::uint64_t persist_batches = 0;
  latency_histogram commit_latency;  // store transactions, for /metrics
  std::unique_ptr<cluster::lease_keeper> keeper;  // renews the leases (actors/engine_cluster.cpp)
  std::unique_ptr<cluster::node_mail> mail;       // requests for chains another node runs
  std::unique_ptr<cluster::node_registry> peers;  // where each node can be reached (engine::nodes)
  mutable std::mutex addresses_mu;                // addresses: this node's, outside a cluster
  json addresses = json::object();
  std::atomic<bool> fenced{false};               // this node lost a lease: nothing more is written
  std::string fenced_why;                        // set before fenced
  caf::actor_system_config caf_cfg;
  std::unique_ptr<caf::actor_system> sys;  // declared last: actors end before what they use

  explicit impl(engine_config c) : cfg(std::move(c)) {
    if (!cfg.log_sink) {
      cfg.log_sink = [](std::string_view level, std::string_view text) {
        std::fprintf(stderr, "[%.*s] %.*s\n", static_cast<int>(level.size()), level.data(),
                     static_cast<int>(text.size()), text.data());
      };
    }
    std::uint64_t first_seq = 0;
    const auto epoch = engine_detail::new_epoch();
    // The node's name is the name of its event stream, in a cluster or not (docs/cluster.md, "Events").
    if (cfg.cluster_node.empty()) cfg.cluster_node = engine_detail::default_node_name();
    if (!cfg.db_path.empty()) {
      auto opened = run_store::open(cfg.db_path, [this](const std::string& m) { cfg.log_sink("info", m); });
      if (opened) {
        runs = std::move(*opened);
        first_seq = runs->last_seq();  // seq continues across restarts
        if (store::sql::is_postgresql(cfg.db_path)) open_cluster(epoch);
      } else {
        startup_error = opened.error();
      }
    }
    if (startup_error) runs.reset();
    registry = std::make_shared<run_registry>(epoch, cfg.retain_chains, first_seq, cfg.replay_events, cfg.cluster_node);
    // Blob texts kept in memory: all there is in memory mode; in durable mode the store has them,
    // and these cover a blob asked for before its record's write committed (docs/store.md, "Blobs").
    forms = std::make_unique<value_forms>(cfg.lim.blob_bytes, runs ? cfg.lim.retained_bytes / 4 : cfg.lim.retained_bytes);
    // Finished chains leave memory past limits.retainedBytes; in durable mode a quarter of it is a
    // cache, and the store answers for the rest (docs/durability.md, "History").
    registry->set_retained_bytes(runs ? cfg.lim.retained_bytes / 4 : cfg.lim.retained_bytes);
    if (runs) {
      // Start-up reads only what is unfinished; finished history is read when asked for.
      std::vector<run_record> unfinished;
      for (const auto& c : runs->unfinished_chains())
        for (auto& r : whole_chain_records(c.root_id)) unfinished.push_back(std::move(r));
      registry->restore(std::move(unfinished), runs->unfinished_keys());
      registry->set_history(std::shared_ptr<run_history>(std::shared_ptr<void>{}, runs.get()));
      pruner = std::make_unique<history_pruner>(
          *runs, retention_policy{cfg.retain_stored_chains, cfg.retain_stored_ms, 100}, cfg.retention_every.count(),
          cfg.log_sink);
      registry->set_persist(
          [this](const std::vector<const event*>& batch, const std::vector<chain_submission>& chains) -> expected<void> {
            auto t0 = std::chrono::steady_clock::now();
            auto r = runs->write(batch, chains, forms.get());
            commit_latency.observe(std::chrono::steady_clock::now() - t0);
            if (!r) return r;
            if (++persist_batches % engine_detail::store_retention_batches == 0 && pruner) pruner->poke();
            return {};
          },
          cfg.log_sink);
    }
    open_signals();
    timers = std::make_unique<timer_service>();
    core.timers = timers.get();
    blocking = std::make_unique<thread_pool>(cfg.blocking_threads);
    core.registry = registry.get();
    core.ops = &ops;
    core.blocking = blocking.get();
    core.settings.lim = cfg.lim;
    core.settings.cancel_grace_ms = cfg.cancel_grace.count();
    core.settings.new_id = new_run_id;
    core.seeds = std::random_device{}();
    for (auto& op : engine_operations(*timers, cfg.log_sink)) (void)ops.add(std::move(op));
    (void)ops.add(await_operation(*signals));
    sweep_signals_later(timers.get());
    for (auto& op : ops::text_operations()) (void)ops.add(std::move(op));
    for (auto& op : ops::llm_operations(ops::llm_config_from(cfg.ops_config))) (void)ops.add(std::move(op));
    if (!cfg.db_path.empty() && !startup_error) open_documents();
    sys = std::make_unique<caf::actor_system>(engine_detail::configure(caf_cfg, cfg));
    open_definitions();  // before what compiles chains: resumed chains and schedules call them
    open_schedules();  // last: a fire submits a chain
  }

  /// The signal board, with the signals a durable store kept at the last stop.
  void open_signals() {
    if (runs) {
      auto opened = signal_store::open(cfg.db_path);
      if (opened) {
        signal_rows = std::move(*opened);
      } else if (!startup_error) {
        startup_error = opened.error();
      }
    }
    signals = std::make_unique<signal_board>(static_cast<std::int64_t>(cfg.lim.signal_keep_ms), cfg.lim.max_kept_signals,
                                             signal_rows.get(), cfg.log_sink);
    if (!signal_rows) return;
    if (auto rows = signal_rows->load()) {
      signals->restore(std::move(*rows));
    } else {
      cfg.log_sink("error", rows.error().message);
    }
  }

  /// Re-arms itself on the timer thread through the service's own pointer: the `timers` member is
  /// reset while the last callbacks may still run (the service joins its thread first).
  void sweep_signals_later(timer_service* on) {
    on->after(engine_detail::signal_sweep_every, [this, on] {
      signals->sweep(now_ms(), [this](const std::string& run_id) {
        auto r = registry->get(run_id);
        return !r || is_final(r->status);  // gone from memory: ended long ago
      });
      sweep_signals_later(on);
    });
  }

  std::optional<std::string> blob_text(const std::string& id) const {
    if (auto t = forms->text(id)) return t;
    if (runs) return runs->blob(id);
    return std::nullopt;
  }
  /// `v` with the blob references it holds resolved; nullopt when it holds none.
  expected<std::optional<json>> whole(const json& v) const {
    if (!blob::holds_ref(v)) return std::optional<json>{};
    // A reference nothing stores is left as it is: a value a user wrote in that shape, or one whose
    // chain retention deleted. A blob whose text is not its id's is an error.
    auto r = blob::resolve(v, [this](const std::string& id) { return blob_text(id); }, true);
    if (!r) return std::move(r).error();
    return std::optional<json>(std::move(*r));
  }

  /// The record's input and output with their references resolved.
  expected<void> whole_values(run_record& r) const {
    for (value_ptr* v : {&r.input, &r.output}) {
      if (!*v) continue;
      auto w = whole(**v);
      if (!w) return std::move(w).error();
      if (*w) *v = std::make_shared<const json>(std::move(**w));
    }
    return {};
  }

  /// A chain's records from the store, to resume: values whole (what the store keeps as blobs read back).
  std::vector<run_record> whole_chain_records(const std::string& root_id) const {
    auto records = runs->chain_records(root_id);
    for (auto& r : records)
      if (auto w = whole_values(r); !w)
        cfg.log_sink("error", "run " + r.id + " resumes with a blob reference in its values: " + w.error().message);
    return records;
  }

  void open_documents() {
    store::schema_registry schemas;
    for (auto r : {schemas.load_builtin(), schemas.load_dir(cfg.doctypes_dir)}) {
      if (!r) {
        startup_error = r.error();
        return;
      }
    }
    auto opened = store::document_store::open(cfg.db_path, std::move(schemas));
    if (!opened) {
      startup_error = opened.error();
      return;
    }
    docs = std::move(*opened);
    for (auto& op : ops::store_operations(docs, ops::ops_config_from_json(cfg.ops_config))) (void)ops.add(std::move(op));
  }

  /// The chains in flight of the partitions held (in a cluster; on a file: all), or of `partitions`.
  std::size_t resume(std::optional<std::vector<int>> partitions = std::nullopt) {
    if (!runs) return 0;
    std::size_t n = 0;
    for (auto& c : runs->unfinished_chains(std::move(partitions))) {
      if (registry->get(c.root_id) && is_final(registry->get(c.root_id)->status)) continue;
      auto records = whole_chain_records(c.root_id);
      for (json* v : {&c.document, &c.input}) {  // a large chain input is stored as blobs
        auto w = whole(*v);
        if (w && *w) *v = std::move(**w);
        if (!w) cfg.log_sink("error", "chain " + c.root_id + " resumes with a blob reference in its input: " + w.error().message);
      }
      std::vector<std::pair<std::string, std::string>> key;
      if (!c.key.empty()) key.emplace_back(c.key, c.root_id);
      registry->restore(records, key);
      if (!registry->get(c.root_id)) {
        // Accepted, but cut off before its first event was stored.
        auto pending = std::make_shared<run_record>();
        pending->id = pending->chain_id = c.root_id;
        pending->operation = "run";
        pending->created = now_ms();
        registry->add_pending(std::move(pending), c.key);
      }
      auto compiled = compile_document(c.document);
      if (!compiled.ok()) {
        const auto& e = compiled.errors.front();
        registry->force_finish(c.root_id, run_status::failed,
                               run_error{e.code, "cannot resume: " + e.message, c.root_id, "run", e.path});
        continue;
      }
      run_spec spec;
      spec.core = &core;
      auto& w = spec.where;
      w.step = compiled.doc->root;
      if (c.has_input) {
        auto copy = std::make_shared<chain::step>(*w.step);
        copy->has_input = false;
        w.step = std::move(copy);
        w.pipe = share(c.input);
      }
      w.id = w.chain_id = c.root_id;
      // A chain stopped while redriven resumes as a redrive: what it had not run again yet is run.
      const auto root_rec = std::find_if(records.begin(), records.end(), [&](const run_record& r) { return r.id == c.root_id; });
      const bool redriven = root_rec != records.end() && root_rec->redrives > 0;
      w.resume = std::make_shared<const resume_plan>(records, redriven);
      w.seed = core.seeds++;
      if (root_rec != records.end()) w.trace = trace_of(c.root_id, *root_rec);
      spawn_run(*sys, std::move(spec));
      ++n;
    }
    return n;
  }

  /// A chain's trace when it resumes or is redriven: the one its top record kept, else (trace_all)
  /// one derived from its id, else none (docs/tracing.md).
  std::shared_ptr<const trace_context> trace_of(const std::string& chain_id, const run_record& top) const {
    if (!top.trace_id.empty())
      return std::make_shared<const trace_context>(trace_context{top.trace_id, top.parent_span_id, true});
    if (cfg.trace_all) return std::make_shared<const trace_context>(trace_context{trace_id_of(chain_id), {}, true});
    return nullptr;
  }

  /// Redrive (actors/engine_redrive.cpp).
  expected<redrive_outcome> redrive(const std::string& run_id, const redrive_options& opts);

  /// Schedules (actors/engine_schedules.cpp).
  void open_schedules();
  void arm_schedules_locked();
  void fire_schedules();
  /// In a cluster: tell the other nodes that schedule `name` changed in the store (put, paused,
  /// removed); each reads it back (reload_schedule) and fires it from now on.
  void announce_schedule(const std::string& name);
  void reload_schedule(const std::string& name);

  /// Signals (actors/engine_signals.cpp).
  expected<signal_outcome> settle(expected<signal_result> r, bool wait_stored, std::chrono::milliseconds store_wait);
  expected<signal_outcome> signal_run(const std::string& run_id, const json& payload, bool wait_stored);
  /// In a cluster: a signal kept here is offered to the other nodes; delivered when an await of one
  /// of them took it (with that node's name), else kept.
  expected<signal_outcome> offer_kept(const signal_result& r);
  std::string take_kept_elsewhere(std::uint64_t id);  // another node kept one: the await here that took it
  void answer_kept(const json& question);             // another node offers a kept signal
  void answer_signal_run(const json& question);       // another node asks to signal a run of this one

  ~impl() {
    {
      std::lock_guard lock(schedule_mu);
      stopping = true;
    }
    shutdown();
    registry->stop_delivery();  // its thread may hold CAF state (a callback that submitted)
    blocking.reset();  // runs what is queued; answers go to actors that are gone and are dropped
    // Fires nothing more, but stays for the actors still finishing (a run killed cancels its timers
    // as it ends, maybe after the loop above saw the directory empty): gone after the system.
    timers->stop();
    sys.reset();
    timers.reset();
    registry.reset();  // delivers the last events
    release_leases();  // after the last write: another node takes over at once
    docs.reset();
  }

  /// Memory mode: cancels every chain in flight and waits (bounded) for them to end as cancelled.
  /// Durable mode: stops every chain where it stands, to resume at the next start.
  void shutdown() {
    keeper.reset();  // takes over nothing more
    mail.reset();    // takes no request from other nodes
    if (runs) {
      // Nothing is cancelled or recorded: what is stored resumes at the next start, like after a
      // crash (docs/durability.md, "Stopping"). Events published so far are written first.
      stop_in_place();
      registry->flush();
      return;
    }
    // Runs just spawned enter the directory a moment later, so cancel until nothing is active.
    auto deadline = std::chrono::steady_clock::now() + cfg.cancel_grace + std::chrono::seconds(3);
    for (int round = 0; registry->active_chains() > 0 && std::chrono::steady_clock::now() < deadline; ++round) {
      if (round % 10 == 0) cancel_all(false);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // Whatever still runs is recorded as cancelled rather than left `running`, and its actor ends.
    list_filter f;
    f.roots_only = true;
    f.limit = static_cast<std::size_t>(-1);
    for (const auto& r : registry->list(f))
      if (!is_final(r->status))
        registry->force_finish(r->id, run_status::cancelled,
                               run_error{codes::cancelled, "cancelled: the engine shut down", r->id, r->operation, {}});
    cancel_all(true);
    registry->flush();
  }

  /// Cancels (or kills) every chain in flight.
  void cancel_all(bool kill) {
    std::vector<caf::actor> live;
    {
      // Cancelling the top chains cancels their trees in order; a child cancelled on its own
      // would fail its chain instead. A chain killed takes its tree with it (~run_state).
      std::lock_guard lock(core.dir_mu);
      for (const auto& [id, a] : core.directory) live.push_back(a);
    }
    for (const auto& a : live) {
      if (kill) {
        caf::anon_send_exit(a, caf::exit_reason::kill);
      } else {
        caf::anon_send(a, cancel_atom::value);  // a second cancel is ignored
      }
    }
  }

  /// Durable mode: kills every chain where it stands, recording nothing of it (it resumes at the next
  /// start, or on the node that takes its partition over).
  void stop_in_place() {
    core.leaving.store(true, std::memory_order_release);
    // A chain spawned a moment ago enters the directory a moment later: kill until it is empty.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    for (int round = 0; std::chrono::steady_clock::now() < until; ++round) {
      {
        std::lock_guard lock(core.dir_mu);
        if (core.directory.empty()) break;
      }
      if (round % 10 == 0) cancel_all(true);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  /// The cluster (actors/engine_cluster.cpp): the leases of a PostgreSQL store.
  void open_cluster(const std::string& epoch);
  void start_keeper();
  void fence(const std::string& why);
  void release_leases();
  /// Cancels a run this node runs; one it does not run, with `forward`, on the node that does.
  expected<void> cancel(const std::string& run_id, bool forward);

  chain::compile_options compile_opts() const {
    chain::compile_options o;
    o.lim = cfg.lim;
    o.known_operation = [this](std::string_view name) { return ops.contains(name); };
    o.resolve_chain = [this](std::string_view ref) -> expected<std::shared_ptr<const chain::chain_ref>> {
      auto d = library.resolve(ref);
      if (!d) return d.error();
      return (*d)->ref;
    };
    return o;
  }

  /// Published chains (actors/engine_chains.cpp).
  void open_definitions();
  /// A run by name: the published chain's document, its root naming it (`chainRef` at /chainRef).
  chain::compile_result compile_named(std::string_view ref) const;
  /// A chain as stored (`{"chainRef":"name@3"}` for a run by name) compiled again.
  chain::compile_result compile_document(const json& doc) const;

  /// Starts a chain; `created` tells a new run from the existing run of an idempotency key.
  expected<std::string> start(const chain::compile_result& compiled, const json* source, const submit_options& opts,
                              bool& created) {
    // Calls by name are stored pinned to the versions resolved now: a restart runs the same.
    json pinned;
    if (!compiled.pins.empty() && runs) {
      pinned = *source;
      for (const auto& [at, label] : compiled.pins) pinned[json::json_pointer(at)] = label;
      source = &pinned;
    }
    if (!compiled.ok()) {
      auto e = compiled.errors.front();
      if (compiled.errors.size() > 1)
        e.message += " (and " + std::to_string(compiled.errors.size() - 1) + " more errors)";
      return e;
    }
    std::shared_ptr<const trace_context> given;
    if (!opts.traceparent.empty()) {
      auto t = parse_traceparent(opts.traceparent);
      if (!t) return t.error();
      given = std::make_shared<const trace_context>(std::move(*t));
    }
    std::lock_guard lock(submit_mu);
    if (!opts.key.empty())
      if (auto existing = registry->find_key(opts.key)) return *existing;
    if (registry->active_chains() >= cfg.lim.max_concurrent_runs)
      return make_error(codes::busy, "the engine runs " + std::to_string(cfg.lim.max_concurrent_runs) +
                                         " chains already; try again later");
    if (startup_error) return *startup_error;
    if (fenced.load(std::memory_order_acquire)) return make_error(codes::unavailable, fenced_why);
    if (auto failing = registry->store_failure())
      return make_error(codes::unavailable, "the store cannot write (" + failing->message +
                                                "); nothing new is accepted until it can, try again later");
    auto root = compiled.doc->root;
    run_spec spec;
    auto& w = spec.where;
    if (opts.input) {
      auto copy = std::make_shared<chain::step>(*root);
      copy->has_input = false;
      root = std::move(copy);
      w.pipe = share(*opts.input);
    }
    spec.core = &core;
    w.step = root;
    w.id = new_run_id();
    w.chain_id = w.id;
    w.seed = core.seeds++;
    w.trace = given ? std::move(given) : trace_of(w.id, {});
    auto pending = std::make_shared<run_record>();
    pending->id = w.id;
    pending->operation = root->operation;
    pending->step_id = root->id;
    pending->chain_id = w.id;
    pending->created = now_ms();
    if (w.trace) {
      pending->trace_id = w.trace->trace_id;
      pending->parent_span_id = w.trace->parent_span_id;
    }
    // Accepted is running (the reply says so): a `list` of running chains sent right after the
    // reply finds it, even before its actor has started. One with a later start is scheduled.
    pending->status = opts.start_at > pending->created ? run_status::scheduled : run_status::running;
    if (pending->status == run_status::scheduled) pending->start_at = opts.start_at;
    w.start_at = opts.start_at;
    w.created = pending->created;
    chain_submission saved;
    if (runs) {
      saved.root_id = w.id;
      saved.document = share(*source);
      if (opts.input) saved.input = w.pipe;
      saved.key = opts.key;
      saved.created = pending->created;
    }
    std::shared_ptr<const void> origin;
    if (!runs) origin = std::make_shared<const chain_origin>(chain_origin{root, w.pipe});
    registry->add_pending(std::move(pending), opts.key, std::move(saved), std::move(origin));
    auto id = w.id;
    spawn_run(*sys, std::move(spec));  // in the directory before its id is known: cancel finds it
    created = true;
    return id;
  }
};

}  // namespace coworker

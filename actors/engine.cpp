// coworker::engine: wires the actor system, the registry, the operations and the pools together.
#include "coworker/engine.hpp"

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
#include "core/value_forms.hpp"
#include "engine_core.hpp"
#include "llm_ops.hpp"
#include "ops/builtin.hpp"
#include "core/signal_board.hpp"
#include "runs/retention.hpp"
#include "runs/run_store.hpp"
#include "runs/signal_store.hpp"

namespace coworker {

namespace {

caf::actor_system_config& configure(caf::actor_system_config& cfg, const engine_config& c) {
  auto threads = c.threads ? c.threads : std::max(1u, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", threads);
  cfg.set("scheduler.policy", c.scheduler_policy == "stealing" ? caf::atom("stealing") : caf::atom("sharing"));
  return cfg;
}

/// How often kept signals expire and awaits that stopped waiting are forgotten (signal_board::sweep).
constexpr std::chrono::seconds signal_sweep_every{10};

/// The committer asks for a retention pass once per this many transactions.
constexpr std::uint64_t store_retention_batches = 1024;

std::string new_epoch() {
  // The first 26 characters after "run-" of a fresh id: unique per engine start, time-ordered.
  return "ep-" + new_run_id().substr(4);
}

}  // namespace

struct subscription::impl {
  std::weak_ptr<run_registry> registry;
  std::uint64_t id = 0;
  ~impl() {
    if (auto r = registry.lock()) r->unsubscribe(id);
  }
};

subscription::subscription(subscription&&) noexcept = default;
subscription& subscription::operator=(subscription&&) noexcept = default;
subscription::~subscription() = default;
void subscription::reset() { impl_.reset(); }

struct engine::impl {
  engine_config cfg;
  std::optional<error> startup_error;
  std::unique_ptr<run_store> runs;  // the durable run store, when db_path is set
  std::unique_ptr<history_pruner> pruner;  // its retention, on a thread of its own
  std::shared_ptr<store::document_store> docs;
  std::shared_ptr<run_registry> registry;
  std::unique_ptr<value_forms> forms;  // values as the store, events and replies carry them (blobs)
  operation_table ops;
  std::unique_ptr<signal_store> signal_rows;  // kept signals, in durable mode
  std::unique_ptr<signal_board> signals;      // awaits and signals (docs/chain-language.md, "await")
  std::unique_ptr<timer_service> timers;
  std::unique_ptr<thread_pool> blocking;
  engine_core core;
  std::mutex submit_mu;  // makes "find key, else start" one step
  std::uint64_t persist_batches = 0;
  latency_histogram commit_latency;  // store transactions, for /metrics
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
    if (!cfg.db_path.empty()) {
      auto opened = run_store::open(cfg.db_path, [this](const std::string& m) { cfg.log_sink("info", m); });
      if (opened) {
        runs = std::move(*opened);
        first_seq = runs->last_seq();  // seq continues across restarts
      } else {
        startup_error = opened.error();
      }
    }
    registry = std::make_shared<run_registry>(new_epoch(), cfg.retain_chains, first_seq, cfg.replay_events);
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
            if (++persist_batches % store_retention_batches == 0 && pruner) pruner->poke();
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
    sweep_signals_later();
    for (auto& op : ops::text_operations()) (void)ops.add(std::move(op));
    for (auto& op : ops::llm_operations(ops::llm_config_from(cfg.ops_config))) (void)ops.add(std::move(op));
    if (!cfg.db_path.empty() && !startup_error) open_documents();
    sys = std::make_unique<caf::actor_system>(configure(caf_cfg, cfg));
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

  void sweep_signals_later() {
    timers->after(signal_sweep_every, [this] {
      signals->sweep(now_ms(), [this](const std::string& run_id) {
        auto r = registry->get(run_id);
        return !r || is_final(r->status);  // gone from memory: ended long ago
      });
      sweep_signals_later();
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
    for (const auto& dir : {std::string(COWORKER_SOURCE_DIR) + "/config/doctypes", cfg.doctypes_dir}) {
      if (auto r = schemas.load_dir(dir); !r) {
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

  std::size_t resume() {
    if (!runs) return 0;
    std::size_t n = 0;
    for (auto& c : runs->unfinished_chains()) {
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
      auto compiled = chain::compile_chain(c.document, compile_opts());
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
      w.resume = std::make_shared<const resume_plan>(records);
      w.seed = core.seeds++;
      spawn_run(*sys, std::move(spec));
      ++n;
    }
    return n;
  }

  ~impl() {
    shutdown();
    registry->stop_delivery();  // its thread may hold CAF state (a callback that submitted)
    blocking.reset();  // runs what is queued; answers go to actors that are gone and are dropped
    timers.reset();
    sys.reset();
    registry.reset();  // delivers the last events
    docs.reset();
  }

  /// Memory mode: cancels every chain in flight and waits (bounded) for them to end as cancelled.
  /// Durable mode: stops every chain where it stands, to resume at the next start.
  void shutdown() {
    auto cancel_all = [this](bool kill) {
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
    };
    if (runs) {
      // Nothing is cancelled or recorded: what is stored resumes at the next start, like after a
      // crash (docs/durability.md, "Stopping"). Events published so far are written first.
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

  chain::compile_options compile_opts() const {
    chain::compile_options o;
    o.lim = cfg.lim;
    o.known_operation = [this](std::string_view name) { return ops.contains(name); };
    return o;
  }

  /// Starts a chain; `created` tells a new run from the existing run of an idempotency key.
  expected<std::string> start(const chain::compile_result& compiled, const json* source, const submit_options& opts,
                              bool& created) {
    if (!compiled.ok()) {
      auto e = compiled.errors.front();
      if (compiled.errors.size() > 1)
        e.message += " (and " + std::to_string(compiled.errors.size() - 1) + " more errors)";
      return e;
    }
    std::lock_guard lock(submit_mu);
    if (!opts.key.empty())
      if (auto existing = registry->find_key(opts.key)) return *existing;
    if (registry->active_chains() >= cfg.lim.max_concurrent_runs)
      return make_error(codes::busy, "the engine runs " + std::to_string(cfg.lim.max_concurrent_runs) +
                                         " chains already; try again later");
    if (startup_error) return *startup_error;
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
    auto pending = std::make_shared<run_record>();
    pending->id = w.id;
    pending->operation = root->operation;
    pending->step_id = root->id;
    pending->chain_id = w.id;
    pending->created = now_ms();
    // Accepted is running (the reply says so): a `list` of running chains sent right after the
    // reply finds it, even before its actor has started.
    pending->status = run_status::running;
    chain_submission saved;
    if (runs) {
      saved.root_id = w.id;
      saved.document = share(*source);
      if (opts.input) saved.input = w.pipe;
      saved.key = opts.key;
      saved.created = pending->created;
    }
    registry->add_pending(std::move(pending), opts.key, std::move(saved));
    auto id = w.id;
    spawn_run(*sys, std::move(spec));  // in the directory before its id is known: cancel finds it
    created = true;
    return id;
  }
};

engine::engine(engine_config cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {
  if (impl_->cfg.auto_resume) impl_->resume();
}

std::size_t engine::resume() { return impl_->resume(); }
void engine::shutdown() { impl_->shutdown(); }
engine::~engine() = default;

const std::optional<error>& engine::startup_error() const { return impl_->startup_error; }

expected<void> engine::register_operation(operation op) { return impl_->ops.add(std::move(op)); }

expected<void> engine::register_operation(std::string name, sync_handler fn) {
  operation op;
  op.name = std::move(name);
  op.sync = std::move(fn);
  return impl_->ops.add(std::move(op));
}

std::vector<std::shared_ptr<const operation>> engine::operations() const { return impl_->ops.all(); }
void engine::unregister_operation(const std::string& name) { impl_->ops.remove(name); }

std::vector<error> engine::validate(const json& chain) const {
  return chain::compile_chain(chain, impl_->compile_opts()).errors;
}

std::vector<error> engine::validate_text(std::string_view text) const {
  return chain::compile_chain_text(text, impl_->compile_opts()).errors;
}

expected<std::string> engine::submit(const json& chain, const submit_options& opts) {
  bool created = false;
  auto id = impl_->start(chain::compile_chain(chain, impl_->compile_opts()), &chain, opts, created);
  if (!id) return id;
  // Accepted means stored: the caller hears of the chain once its first event is durable.
  if (impl_->runs && opts.wait_durable) impl_->registry->wait_durable(*id);
  return id;
}

bool engine::durable(const std::string& run_id) const { return impl_->registry->is_durable(run_id); }

namespace {

/// How long signal() waits for the end of the await it delivered to be stored.
constexpr std::chrono::seconds signal_store_wait{60};

/// A delivered signal is acknowledged once the await's end is stored (docs/durability.md).
expected<signal_outcome> settled(const engine& eng, bool durable, expected<signal_result> r, bool wait_stored) {
  if (!r) return std::move(r).error();
  if (r->delivered && durable && wait_stored) {
    auto end = eng.wait(r->run_id, signal_store_wait);
    if (!end && end.error().code == codes::timeout)
      return make_error(codes::unavailable, "the signal went to run " + r->run_id +
                                                " but its end is not stored yet (the store cannot write); get the run to see it");
  }
  return signal_outcome{r->delivered, r->run_id};
}

}  // namespace

expected<signal_outcome> engine::signal(const std::string& key, const json& payload, bool wait_stored) {
  if (key.empty() || key.size() > max_signal_key_bytes)
    return make_error(codes::invalid_input, "a signal's key is a string of 1 to " + std::to_string(max_signal_key_bytes) + " bytes", "/key");
  return settled(*this, impl_->runs != nullptr, impl_->signals->signal(key, payload, now_ms()), wait_stored);
}

expected<signal_outcome> engine::signal_run(const std::string& run_id, const json& payload, bool wait_stored) {
  if (!impl_->registry->get(run_id)) return make_error(codes::not_found, "no run '" + run_id + "'", "/runId");
  return settled(*this, impl_->runs != nullptr, impl_->signals->signal_run(run_id, payload), wait_stored);
}

expected<std::string> engine::submit_text(std::string_view text, const submit_options& opts) {
  auto parsed = chain::parse_json(text, impl_->cfg.lim);
  if (!parsed) return std::move(parsed).error();
  return submit(*parsed, opts);
}

expected<json> engine::run(const json& chain, const submit_options& opts) {
  auto id = submit(chain, opts);
  if (!id) return std::move(id).error();
  auto done = wait(*id);
  if (!done) return std::move(done).error();
  return tree(*id);
}

expected<run_record> engine::wait(const std::string& run_id, std::chrono::milliseconds timeout) const {
  bool ended = false;
  auto r = impl_->registry->wait_final(run_id, timeout, ended);
  if (!r) return make_error(codes::not_found, "no run '" + run_id + "'");
  if (!ended) return make_error(codes::timeout, "run '" + run_id + "' has not ended yet (or its end is not stored yet)");
  return *r;
}

expected<run_record> engine::get(const std::string& run_id) const {
  auto r = impl_->registry->get(run_id);
  if (!r) return make_error(codes::not_found, "no run '" + run_id + "'");
  if (!impl_->runs) return *r;
  run_record out = *r;  // read back from the store, its values may be references
  if (auto w = impl_->whole_values(out); !w) return std::move(w).error();
  return out;
}

expected<std::size_t> engine::prune_history() {
  if (!impl_->pruner) return std::size_t{0};
  return impl_->pruner->pass();
}

expected<json> engine::tree(const std::string& run_id, bool by_reference) const {
  auto t = impl_->registry->tree(run_id, by_reference ? impl_->forms.get() : nullptr);
  if (!t) return make_error(codes::not_found, "no run '" + run_id + "'");
  if (!by_reference && impl_->runs) {  // records read back from the store hold references
    std::vector<json*> todo{&*t};
    while (!todo.empty()) {
      json* node = todo.back();
      todo.pop_back();
      for (const char* k : {"input", "output"}) {
        auto r = impl_->whole((*node)[k]);
        if (!r) return std::move(r).error();
        if (*r) (*node)[k] = std::move(**r);
      }
      for (auto& c : (*node)["children"]) todo.push_back(&c);
    }
  }
  return std::move(*t);
}

expected<json> engine::blob(const std::string& id) const {
  auto ref = blob::make_ref(id, 0);
  if (!blob::is_ref(ref)) return make_error(codes::invalid_input, "a blob id is \"sha256:\" and 64 lower-case hex digits", "/id");
  return blob::resolve(ref, [this](const std::string& b) { return impl_->blob_text(b); });
}

value_forms& engine::forms() const { return *impl_->forms; }

std::vector<run_record> engine::list(const list_query& q) const {
  list_filter f{q.status, q.chain_id, q.roots_only, q.limit};
  std::vector<run_record> out;
  for (const auto& r : impl_->registry->list(f)) out.push_back(*r);
  return out;
}

expected<void> engine::cancel(const std::string& run_id) {
  // A top chain is entered before its id is known; a run below one is reached through it.
  if (auto a = impl_->core.find(run_id)) {
    caf::anon_send(a, cancel_atom::value);
    return {};
  }
  auto rec = impl_->registry->get(run_id);
  if (!rec) return make_error(codes::not_found, "no run '" + run_id + "'");
  if (is_final(rec->status)) return {};  // already ended: nothing left to cancel
  if (auto chain = impl_->core.find(rec->chain_id)) caf::anon_send(chain, cancel_atom::value, run_id);
  return {};
}

subscription engine::subscribe(std::function<void(const event&)> fn) {
  subscription s;
  s.impl_ = std::make_shared<subscription::impl>();
  s.impl_->registry = impl_->registry;
  s.impl_->id = impl_->registry->subscribe(std::move(fn));
  return s;
}

event_cursor::event_cursor(event_cursor&&) noexcept = default;
event_cursor& event_cursor::operator=(event_cursor&& o) noexcept {
  if (this != &o) {
    if (registry_) registry_->log().close(id_);
    registry_ = std::move(o.registry_);
    id_ = o.id_;
    handed_ = o.handed_;
    batch_ = std::move(o.batch_);
  }
  return *this;
}
event_cursor::~event_cursor() {
  if (registry_) registry_->log().close(id_);
}

const std::vector<const event*>& event_cursor::next(std::size_t max) {
  batch_.clear();
  if (!registry_) return batch_;
  auto& log = registry_->log();
  if (handed_ > log.position(id_)) log.advance(id_, handed_);
  log.peek(id_, batch_, max);
  if (!batch_.empty()) handed_ = batch_.back()->seq;
  return batch_;
}

std::uint64_t event_cursor::position() const { return handed_; }

event_cursor engine::open_cursor(std::function<void()> wake) {
  event_cursor c;
  c.registry_ = impl_->registry;
  auto& log = impl_->registry->log();
  c.handed_ = log.durable_seq();
  c.id_ = log.open(c.handed_, std::move(wake));
  c.handed_ = log.position(c.id_);
  return c;
}

event_page engine::events_after(std::uint64_t since, std::chrono::milliseconds wait, std::size_t max) const {
  auto b = impl_->registry->log().read_after(since, wait, max);
  event_page p;
  p.st = static_cast<event_page::status>(b.st);
  p.events = std::move(b.events);
  return p;
}

json engine::snapshot(std::size_t recent_chains) const {
  std::uint64_t seq = 0;
  auto records = impl_->registry->snapshot_records(recent_chains, &seq);
  json runs = json::array();
  for (const auto& r : records) runs.push_back(to_json(*r, *impl_->forms));
  return json{{"seq", seq}, {"epoch", impl_->registry->epoch()}, {"runs", std::move(runs)}};
}

std::uint64_t engine::seq() const { return impl_->registry->durable_seq(); }
const std::string& engine::epoch() const { return impl_->registry->epoch(); }
std::size_t engine::active_chains() const { return impl_->registry->active_chains(); }
const engine_config& engine::config() const { return impl_->cfg; }

engine_stats engine::stats() const {
  engine_stats s;
  s.subscribers = impl_->registry->subscriber_count();
  s.store_commits = impl_->commit_latency.read();
  s.seq = impl_->registry->seq();
  s.durable_seq = impl_->registry->durable_seq();
  s.store_writable = !impl_->registry->store_failure();
  s.log_events = impl_->registry->log().size();
  return s;
}

}  // namespace coworker

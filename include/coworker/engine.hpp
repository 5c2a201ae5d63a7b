// coworker::engine: one object owning the actor system, the run registry, the operations and
// (when configured) the store. Everything an embedding program needs; nothing here throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/event.hpp"
#include "coworker/json.hpp"
#include "coworker/limits.hpp"
#include "coworker/operation.hpp"
#include "coworker/run_record.hpp"

namespace coworker {

class value_forms;  // src/core/value_forms.hpp

struct engine_config {
  limits lim;
  /// CAF scheduler: "sharing" (one shared queue) or "stealing" (work stealing). See docs/performance.md.
  std::string scheduler_policy = "sharing";
  std::size_t threads = 0;            ///< scheduler threads; 0: the number of cores
  std::size_t blocking_threads = 8;   ///< threads for blocking handlers (store, I/O)
  std::size_t retain_chains = 10000;  ///< finished chains kept in memory (oldest dropped first)
  std::chrono::milliseconds cancel_grace{2000};  ///< how long a cancelled run waits for its children
  /// The SQLite file holding documents, run records and events; empty: everything in memory
  /// (select/create/... are then not offered, and nothing survives a restart).
  std::string db_path;
  /// With a db_path: resume the chains that were running when the engine last stopped, as soon as
  /// the engine starts. An embedding program that registers operations of its own sets this to
  /// false and calls resume() once they are registered.
  bool auto_resume = true;
  std::size_t retain_stored_chains = 100000;  ///< finished chains kept in the store
  std::int64_t retain_stored_ms = 0;  ///< and none older than this (by creation; 0: no age limit)
  /// How often the store's retention runs (on a thread of its own; also every 1,024 commits).
  std::chrono::milliseconds retention_every{10000};
  /// Events kept in memory after every cursor read them, for readers that come back
  /// (events_after, the HTTP event stream's Last-Event-ID).
  std::size_t replay_events = 4096;
  std::string doctypes_dir;           ///< extra doctype schemas (config/doctypes is always read)
  /// Trace every chain (docs/tracing.md): one submitted without a traceparent gets a trace id of its
  /// own (derived from its id). On when spans are exported (coworker::otlp_exporter).
  bool trace_all = false;
  json ops_config = json::object();   ///< settings of the built-in operations (e.g. send's destination)
  /// A PostgreSQL store is shared by every engine started on it: together they are a cluster
  /// (docs/cluster.md). This node's name in logs, in the `leases` table and as the `stream` of its
  /// events (default: host name and process id), in a cluster or not; and how long a lease lasts without renewal (renewed every third of it).
  std::string cluster_node;
  std::chrono::milliseconds lease{5000};
  /// Called once, from the lease keeper's thread, when this node lost a lease (another node took
  /// its partitions over): it has stopped its runs, writes nothing more and refuses new chains
  /// `unavailable`. `coworker serve` exits.
  std::function<void(const std::string& why)> on_fenced;
  /// Where `log` steps and engine warnings go; default: standard error.
  std::function<void(std::string_view level, std::string_view text)> log_sink;
};

struct submit_options {
  std::optional<json> input;  ///< replaces the chain's own `input`
  std::string key;            ///< idempotency key: the same key returns the existing run
  /// With a durable store, submit() returns once the chain is stored (its first event is
  /// durable). false: it returns at once; engine::durable(id) tells when the chain is stored, and
  /// a cursor sees its first event then (the ZeroMQ gateway holds its reply until that event).
  bool wait_durable = true;
  /// Start later: the chain is stored at once and `scheduled` until this time (ms since the epoch;
  /// 0 or a time past: at once). docs/chain-language.md, "Delayed start".
  std::int64_t start_at = 0;
  /// A W3C `traceparent` (docs/tracing.md): the chain joins the caller's trace; its records keep
  /// the trace id and remote workers get a traceparent in each task. Malformed: invalid_input at
  /// /traceparent. Empty: traced only when engine_config::trace_all is on.
  std::string traceparent;
};

/// docs/chain-language.md, "Redrive".
struct redrive_options {
  bool dry_run = false;  ///< only say what would run again; change nothing
  /// With a durable store, redrive() returns once the chain is stored as in flight again (its new
  /// start is durable): a crash after that resumes the redrive. false: at once.
  bool wait_durable = true;
};

struct redrive_outcome {
  std::string run_id;                  ///< the chain's id (the same as before)
  int redrives = 0;                    ///< the chain's redrives, this one counted
  /// The steps that run again or for the first time, in document order: each by its id (a step
  /// without one by its JSON Pointer). Those past the failure may still be skipped by their `if`.
  std::vector<std::string> would_run;
};

/// docs/chain-language.md, "Published chains".
struct publish_outcome {
  std::string name;
  int version = 0;
  std::string sha256;
  bool created = false;  ///< false: the same content was published before, as this version
};

struct list_query {
  std::optional<run_status> status;
  std::string chain_id;
  bool roots_only = false;
  std::size_t limit = 100;
};

/// A latency histogram as Prometheus exposes one: `cumulative[i]` observations took at most
/// `bounds[i]` seconds; the last entry (+Inf) counts them all.
struct histogram_data {
  std::vector<double> bounds;
  std::vector<std::uint64_t> cumulative;
  double sum_seconds = 0;
  std::uint64_t count = 0;
};

/// What the engine counts for monitoring (docs/web.md, /metrics) beyond what its events carry.
struct engine_stats {
  std::size_t subscribers = 0;   ///< event subscriptions (engine::subscribe) open now
  histogram_data store_commits;  ///< durable store transactions (one per batch of events) and their duration
  std::uint64_t seq = 0;         ///< the last event numbered
  std::uint64_t durable_seq = 0; ///< the last event stored (= seq in memory mode); events past it are held
  bool store_writable = true;    ///< false while the store cannot write (new chains get `unavailable`)
  std::size_t log_events = 0;    ///< events in memory: held, unread by a cursor, or in the replay window
};

/// What became of a signal (docs/protocol.md, "signal").
struct signal_outcome {
  bool delivered = false;  ///< an await step took it; false: kept for one that starts later
  std::string run_id;      ///< the await step's run, when delivered
  std::string node;        ///< in a cluster: the node that runs that await, when not this one
};

/// A live node of the cluster an engine is part of (engine::nodes; docs/cluster.md, "Finding the nodes").
struct node_info {
  std::string node;                 ///< its name: the `stream` of its events
  json addresses = json::object();  ///< what it advertised by kind: "http", "requests", "events", "workers"
  bool self = false;                ///< the engine asked
};

/// Events from the log for a reader that may fall behind (engine::events_after).
struct event_page {
  enum class status { events, resync, timeout, closed };
  status st = status::timeout;
  std::vector<event> events;  ///< with status::events: seq since+1, since+2, ...
};

class run_registry;

/// A consumer's place in the engine's event log (docs/engine.md, "Events"): it reads the durable
/// events in seq order on the caller's own thread; the log keeps every event it has not read.
class event_cursor {
 public:
  event_cursor() = default;
  event_cursor(event_cursor&&) noexcept;
  event_cursor& operator=(event_cursor&&) noexcept;
  ~event_cursor();  ///< closes it: the log no longer keeps events for it
  /// Up to `max` events after the cursor's position, in seq order; they stay valid until the next
  /// call. Calling again moves past them. When there are none, the cursor's wake function is
  /// armed: it is called once (on an engine thread; it must not block) when more are readable.
  const std::vector<const event*>& next(std::size_t max = 1024);
  std::uint64_t position() const;  ///< the seq of the last event handed out
  explicit operator bool() const { return static_cast<bool>(registry_); }

 private:
  friend class engine;
  std::shared_ptr<run_registry> registry_;
  std::uint64_t id_ = 0;
  std::uint64_t handed_ = 0;  ///< the last seq handed out
  std::vector<const event*> batch_;
};

class engine;

/// Ends an event subscription when destroyed (or on reset()).
class subscription {
 public:
  subscription() = default;
  subscription(subscription&&) noexcept;
  subscription& operator=(subscription&&) noexcept;
  ~subscription();
  void reset();

 private:
  friend class engine;
  struct impl;
  std::shared_ptr<impl> impl_;
};

class engine {
 public:
  explicit engine(engine_config cfg = {});
  ~engine();  ///< shutdown()
  /// In memory mode, cancels every run in flight and waits (bounded by cancel_grace + 3 s) until
  /// they have ended as cancelled and their events are delivered. With a durable store, stops every
  /// run where it stands instead, without recording an end: the next engine on the file resumes
  /// them, as after a crash (docs/durability.md, "Stopping"). New submits still work afterwards.
  void shutdown();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// Set when the engine could not start (e.g. the store file cannot be opened).
  const std::optional<error>& startup_error() const;

  /// Resumes the chains a durable store recorded as running (done at start unless auto_resume is
  /// false). Returns how many were resumed.
  std::size_t resume();

  /// Registers (or replaces) an operation that chains may name.
  expected<void> register_operation(operation op);
  /// Shorthand: a short, non-blocking synchronous handler.
  expected<void> register_operation(std::string name, sync_handler fn);
  /// Removes an operation (a remote worker's, when its last worker left); chains naming it are
  /// then refused as unknown_operation. Steps already running keep their handler.
  void unregister_operation(const std::string& name);
  std::vector<std::shared_ptr<const operation>> operations() const;

  /// Every validation error of `chain` (empty when it is valid).
  std::vector<error> validate(const json& chain) const;
  /// Every error of a chain given as text: JSON syntax and limits first, then validation.
  std::vector<error> validate_text(std::string_view chain_text) const;
  /// Validates and starts a chain; returns its run id at once.
  expected<std::string> submit(const json& chain, const submit_options& opts = {});
  /// Parses (with the request limits), validates and starts a chain given as text.
  expected<std::string> submit_text(std::string_view chain_text, const submit_options& opts = {});
  /// Submits and waits for the chain to end; returns its record tree (`{...record, children}`).
  expected<json> run(const json& chain, const submit_options& opts = {});

  /// Waits for a run to end; not_found for an unknown id, timeout when it does not end in time.
  expected<run_record> wait(const std::string& run_id,
                            std::chrono::milliseconds timeout = std::chrono::hours(24 * 365)) const;
  expected<run_record> get(const std::string& run_id) const;
  /// Deletes now the stored chains past retain_stored_chains / retain_stored_ms (docs/durability.md,
  /// "Retention"), as the engine does by itself in the background: how many it deleted (0 in memory).
  expected<std::size_t> prune_history();
  /// The record with its descendants. Values whole, or with `by_reference` as the protocol carries
  /// them: those past limits.blobBytes as `{"$blob","bytes"}` references (docs/store.md, "Blobs").
  expected<json> tree(const std::string& run_id, bool by_reference = false) const;
  /// The records of the same tree without building JSON: the run first, then its descendants
  /// depth-first (each record's childRunIds names its children); empty for an unknown run. Values as
  /// held: whole in memory, blob references when read back from the store.
  std::vector<std::shared_ptr<const run_record>> tree_records(const std::string& run_id) const;
  /// The value a blob reference stands for (`id`: "sha256:<64 hex>"), its hash checked; not_found
  /// when no record kept holds it (memory mode keeps blobs up to limits.retainedBytes).
  expected<json> blob(const std::string& id) const;
  /// How records' values are carried outside the engine (for the protocol's edges).
  value_forms& forms() const;
  /// Values past limits.blobBytes of chains read back from the store are blob references (get()
  /// and tree() give them whole).
  std::vector<run_record> list(const list_query& q = {}) const;
  /// Cancels a run and everything below it. Works from the moment submit() returned its id.
  expected<void> cancel(const std::string& run_id);
  /// Sends a signal to the oldest await step waiting for `key` whose schema the payload fits, or keeps
  /// it (stored, in durable mode) for an await that starts later, up to limits.signalKeepMs
  /// (docs/chain-language.md, "await"). Errors: invalid_input (path /payload/...: the step keeps
  /// waiting), busy (limits.keptSignals), unavailable (the store cannot keep it). With a durable store a
  /// delivered signal returns once the await's end is stored; `wait_stored` false: at once
  /// (wait(run_id, 0) tells when it is).
  expected<signal_outcome> signal(const std::string& key, const json& payload, bool wait_stored = true);
  /// The same for the await step of run `run_id` only: not_found for an unknown run, not_waiting for
  /// a run that is not an await waiting now.
  expected<signal_outcome> signal_run(const std::string& run_id, const json& payload, bool wait_stored = true);

  /// Continues a failed or cancelled top chain (docs/chain-language.md, "Redrive"): the runs that
  /// ended well keep their records and outputs, the others run again under their ids, the steps that
  /// never ran run now; the root record counts `redrives`. Errors: not_found, invalid_input (a step's
  /// run id: redrive its chain), not_redrivable (the chain completed or still runs), busy, unavailable.
  expected<redrive_outcome> redrive(const std::string& run_id, const redrive_options& opts = {});

  /// Publishes `chain` as the next immutable version of `name` (docs/chain-language.md, "Published
  /// chains"), validated first (errors under /chain; /inputSchema, /outputSchema for the schemas);
  /// the same content (key order aside) returns the existing version. Its calls by name are pinned
  /// now; a cycle of calls between published chains is refused. Stored in durable mode.
  expected<publish_outcome> publish(const std::string& name, const json& chain, const json& input_schema = nullptr,
                                    const json& output_schema = nullptr);
  /// `[{"name","versions":[{"version","sha256","created"}],"aliases":{...}}]`.
  json chains() const;
  /// Points `alias` of chain `name` at `version`.
  expected<void> alias(const std::string& name, const std::string& alias, int version);
  /// Starts a published chain by reference ("triage@3", "triage:prod", "triage": the latest now);
  /// its root record keeps chainName, chainVersion and chainSha256.
  expected<std::string> submit_ref(const std::string& chain_ref, const submit_options& opts = {});

  /// Creates or replaces a schedule (docs/chain-language.md, "Schedules"): `request` has the fields of
  /// the protocol's `schedule` request (name, cron or everyMs, tz, chain, input, overlap, catchUp,
  /// paused). Its chain is validated first (errors under /chain). Returns `{"name","nextFireAt"}`.
  /// A request with only `name` and `paused` pauses or resumes an existing schedule.
  expected<json> schedule(const json& request);
  /// Removes a schedule: not_found for an unknown name. Chains it started go on.
  expected<void> unschedule(const std::string& name);
  /// Every schedule: its definition, `nextFireAt` (null when paused), `lastFireAt`, `lastRunId`, `skipped`.
  json schedules() const;

  /// The run's first event is stored (always true in memory mode once it is published): what a
  /// durable `run` acknowledgement waits for.
  bool durable(const std::string& run_id) const;

  /// Calls `fn` for every event stored (durable) after this call, in seq order, on the engine's
  /// delivery thread, which all subscriptions share: a slow callback delays the others, never runs.
  subscription subscribe(std::function<void(const event&)> fn);
  /// A cursor on the event log from the current durable seq on; `wake` as in event_cursor::next.
  event_cursor open_cursor(std::function<void()> wake = {});
  /// Durable events after `since` from the log (at most `max`), waiting up to `wait` for the
  /// first; `resync` when they are no longer kept (engine_config::replay_events).
  event_page events_after(std::uint64_t since, std::chrono::milliseconds wait, std::size_t max = 512) const;
  /// Records for a subscriber's view (Clone pattern): unfinished chains and the most recent ones,
  /// with the seq they are current at.
  json snapshot(std::size_t recent_chains = 100) const;
  /// The records of snapshot() without building JSON (in the order of its `runs`), and the seq they
  /// are current at: for an edge that writes them as text (the daemon's and the web view's replies).
  std::vector<std::shared_ptr<const run_record>> snapshot_records(std::size_t recent_chains, std::uint64_t& seq) const;
  std::uint64_t seq() const;  ///< the last published (durable) seq
  const std::string& epoch() const;
  /// The name of this engine's event stream: its node (engine_config::cluster_node, else the host
  /// name and process id). Every event, heartbeat and snapshot carries it (docs/cluster.md, "Events").
  const std::string& stream() const;
  /// Where this node can be reached, by kind ("http": its web view's URL; "requests", "events",
  /// "workers": its ZeroMQ endpoints); an empty address takes the kind out. In a cluster it is
  /// written to the store for the other nodes and their pages (docs/cluster.md, "Finding the
  /// nodes"): errors store_error (logged too).
  expected<void> advertise(const std::string& kind, const std::string& address);
  /// The live nodes by name, this one included (`self`); on a SQLite file or in memory, this one.
  expected<std::vector<node_info>> nodes() const;
  std::size_t active_chains() const;
  const engine_config& config() const;
  /// Counters for monitoring; cheap, callable from any thread.
  engine_stats stats() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace coworker

// Operation handlers: what a step does. Built in, registered by an embedding program, or remote.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "coworker/error.hpp"
#include "coworker/json.hpp"

namespace coworker {

/// What a handler gets for one attempt of one step.
struct op_request {
  std::string operation;
  std::string doctype;
  std::string role;
  std::string run_id;
  std::string chain_id;
  std::string step_id;
  int attempt = 1;
  value_ptr input;  ///< the resolved input (null handle: JSON null)
  std::int64_t deadline = 0;  ///< ms since the epoch when the attempt times out; 0: no timeout
  /// ms since the epoch when the attempt started: before a restart, for an attempt that resumed
  /// (a `wait` ends at started + ms, not ms after the restart).
  std::int64_t started = 0;
  /// A traced chain's step: `00-<trace id>-<this run's span id>-<flags>` (docs/tracing.md), what a
  /// remote worker receives in its task; empty when the chain is not traced.
  std::string traceparent;

  const json& in() const { return deref(input); }
};

/// Completes an asynchronous handler's call exactly once; later calls are ignored. Copyable and
/// callable from any thread.
class responder {
 public:
  using sink = std::function<void(expected<json>)>;
  responder() = default;
  explicit responder(sink s);
  void ok(json output) const;
  void fail(error err) const;
  /// True when this call completed it (false: done already, by an answer, a timeout or a cancel).
  bool complete(expected<json> result) const;
  /// True once the run no longer waits for an answer (answered, cancelled or timed out).
  bool done() const;
  void mark_done() const;

 private:
  struct shared;
  std::shared_ptr<shared> s_;
};

using sync_handler = std::function<expected<json>(const op_request&)>;
using async_handler = std::function<void(const op_request&, responder)>;

/// How the engine calls a handler.
enum class handler_mode {
  inline_sync,   ///< short and non-blocking: called on the run's own actor thread
  blocking_sync, ///< may block (I/O, store): called on the engine's blocking pool
  async          ///< starts work and answers through the responder later
};

struct operation {
  std::string name;
  handler_mode mode = handler_mode::inline_sync;
  sync_handler sync;
  async_handler async;
  json input_schema;           ///< optional JSON description of the input, shown by `operations`
  std::string description;
  bool remote = false;         ///< served by remote workers through `coworker serve`'s broker
};

}  // namespace coworker

// The typed model of a validated chain: the four step forms (docs/chain-language.md, section 2)
// with templates compiled.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coworker/json.hpp"
#include "expr/condition.hpp"
#include "template/template.hpp"

namespace coworker::chain {

enum class step_kind { operation, chain, parallel, for_each };

/// The longest `timeoutMs` a chain may give, and the longest retry delay (365 days): timers take
/// durations in nanoseconds, where a larger number of milliseconds would overflow int64.
inline constexpr std::int64_t max_duration_ms = 365LL * 24 * 60 * 60 * 1000;

struct retry_policy {
  int max = 0;                     ///< extra attempts: at most max + 1 in all
  double delay_ms = 200;
  double backoff = 2.0;
  double max_delay_ms = 10000;
  bool jitter = false;
  std::vector<std::string> retry_on;  ///< empty: retry on every error code
};

struct step_options {
  std::optional<bool> keep_alive;
  std::optional<std::int64_t> timeout_ms;
  std::optional<retry_policy> retry;
  bool fail_fast = true;           ///< parallel groups
  std::size_t concurrency = 0;     ///< forEach; 0 = unbounded
};

struct step;
using step_ptr = std::shared_ptr<const step>;

/// A published chain pinned to one version (docs/chain-language.md, "Published chains"): what a step
/// that calls it by name runs, or what a run by name runs.
struct chain_ref {
  std::string name;
  int version = 0;
  std::string sha256;   ///< of the definition as published (64 hex)
  step_ptr root;        ///< its compiled root, its own calls pinned
  json input_schema;    ///< null: none
  json output_schema;   ///< null: none; describes what a call outputs (the chain's `last`)
  std::string label() const { return name + "@" + std::to_string(version); }
};

struct step {
  step_kind kind = step_kind::operation;
  std::string id;                  ///< empty when the document gives none
  std::string operation;           ///< "run" for chains; "parallel" / "forEach" for those forms
  std::string doctype;
  std::string role;
  std::string pointer;             ///< JSON Pointer of this step in the document ("" for the root)
  int index = -1;                  ///< position in the enclosing children/operations; -1 for root
  bool has_input = false;          ///< false: the default pipe
  tmpl::compiled_value input;
  std::optional<expr::condition> when;  ///< `if`
  step_ptr on_error;
  step_options options;
  std::vector<step_ptr> children;  ///< chain: children; parallel: operations in their order
  tmpl::compiled_value for_each;   ///< forEach: the array to map over
  std::string as;                  ///< forEach: the name bound to each element
  step_ptr body;                   ///< forEach: `do`
  /// A call by name (`"chain": "triage@3"`): the step runs the published chain's children in a scope
  /// of their own (they see its input only) and outputs that chain's `last`.
  std::shared_ptr<const chain_ref> call;
  /// The root of a run by name (`chainRef`): its record names the chain it runs.
  std::shared_ptr<const chain_ref> named;
  /// The children a chain step runs: its own, or those of the chain it calls.
  const std::vector<step_ptr>& chain_children() const { return call ? call->root->children : children; }
};

/// A validated chain, ready to run.
struct chain_doc {
  step_ptr root;
  std::size_t step_count = 0;      ///< every step, nested ones included (onError and do too)
  int depth = 0;                   ///< deepest nesting of chains, groups and forEach
  std::vector<std::string> operations;  ///< distinct operation names used, sorted
};

}  // namespace coworker::chain

// The messages run actors exchange (CAF 0.17 atoms: at most 10 characters).
#pragma once

#include <caf/all.hpp>

#include "core/frame.hpp"

namespace coworker {

using done_atom = caf::atom_constant<caf::atom("done")>;        // child → parent: run ended
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;    // → run: cancel the tree
using opdone_atom = caf::atom_constant<caf::atom("opdone")>;    // handler → run: an answer
// self: a timer fired (run::timer as a byte, the attempt or drain token, the slot it is for)
using timer_atom = caf::atom_constant<caf::atom("timer")>;

/// What a run sends its parent when it ends.
struct run_result {
  record_ptr record;
  std::shared_ptr<const export_list> exports;  ///< step ids it makes visible to later steps
};

/// A handler's answer for one attempt (`token` tells stale answers apart).
struct op_outcome {
  std::uint64_t token = 0;
  std::shared_ptr<expected<json>> result;
  std::uint64_t slot = static_cast<std::uint64_t>(-1);  ///< whose call: the run's own, or a hosted child's
};

}  // namespace coworker

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(coworker::run_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(coworker::op_outcome)

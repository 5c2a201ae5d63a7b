// The messages run actors exchange (CAF 0.17 atoms: at most 10 characters).
#pragma once

#include <caf/all.hpp>

#include "core/frame.hpp"

namespace coworker {

using done_atom = caf::atom_constant<caf::atom("done")>;        // child → parent: run ended
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;    // → run: cancel the tree
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;  // self: an attempt's time is up
using retry_atom = caf::atom_constant<caf::atom("retry")>;      // self: start the next attempt
using opdone_atom = caf::atom_constant<caf::atom("opdone")>;    // handler → run: an answer
using drained_atom = caf::atom_constant<caf::atom("drained")>;  // self: stop waiting for children
using begin_atom = caf::atom_constant<caf::atom("begin")>;      // self: a scheduled chain's start time

/// What a run sends its parent when it ends.
struct run_result {
  record_ptr record;
  std::shared_ptr<const export_list> exports;  ///< step ids it makes visible to later steps
};

/// A handler's answer for one attempt (`token` tells stale answers apart).
struct op_outcome {
  std::uint64_t token = 0;
  std::shared_ptr<expected<json>> result;
};

}  // namespace coworker

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(coworker::run_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(coworker::op_outcome)

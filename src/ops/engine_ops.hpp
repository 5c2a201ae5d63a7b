// The operations the engine itself serves: `log`, `message`, `wait` and `await`.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "core/signal_board.hpp"
#include "core/timer_service.hpp"
#include "coworker/operation.hpp"

namespace coworker {

using log_fn = std::function<void(std::string_view level, std::string_view text)>;

std::vector<operation> engine_operations(timer_service& timers, log_fn log);

/// A signal's key is at most this long (an await's, after its template is resolved, too).
inline constexpr std::size_t max_signal_key_bytes = 1024;

/// `await`: waits on `board` for a signal (src/ops/await_op.cpp).
operation await_operation(signal_board& board);

}  // namespace coworker

// The operations the engine itself serves: `log`, `message` and `wait`.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "core/timer_service.hpp"
#include "coworker/operation.hpp"

namespace coworker {

using log_fn = std::function<void(std::string_view level, std::string_view text)>;

std::vector<operation> engine_operations(timer_service& timers, log_fn log);

}  // namespace coworker

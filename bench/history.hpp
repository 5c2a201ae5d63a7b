// HISTORY: RSS, store bytes per chain and restart time after many finished chains (bench/history.cpp).
#pragma once

#include <string>

#include "common.hpp"

namespace coworker::bench {

/// W1 chains at c=64: `first` then up to `total`, in memory or on a SQLite file.
result bench_history(const std::string& policy, std::size_t threads, bool durable, int first, int total);
/// What `coworker-bench --restart-probe DB --probe-get ID` prints: the engine started on DB and its answer for ID.
json restart_probe(const std::string& db, const std::string& chain_id);

}  // namespace coworker::bench

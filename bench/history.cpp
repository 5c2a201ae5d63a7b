// HISTORY: what a long life costs (docs/durability.md, "History"): RSS and store bytes per chain after
// 10,000 and 100,000 finished W1 chains, and a restart on that file: the time from the engine's start
// to its answer for the oldest chain, and the RSS then, in a fresh process (`--restart-probe`).
// COWORKER_BENCH_KEEP_DB=1 keeps the file and prints its path.
#include "history.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace coworker::bench {

namespace {

std::uintmax_t file_bytes(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

/// Runs the probe in a child process (its RSS is its own) and returns what it printed.
json restart(const std::string& db, const std::string& chain_id) {
  std::string cmd = "/proc/" + std::to_string(getpid()) + "/exe --restart-probe '" + db + "' --probe-get " + chain_id;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return json{{"error", "cannot start the probe"}};
  std::string out;
  char buf[4096];
  while (auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  auto j = json::parse(out, nullptr, false);
  return j.is_discarded() ? json{{"error", out}} : j;
}

std::string first_chain(engine& eng, const json& chain) {
  auto id = eng.submit(chain);
  if (!id || !eng.wait(*id)) {
    std::fprintf(stderr, "HISTORY: the first chain did not run\n");
    std::abort();
  }
  return *id;
}

}  // namespace

json restart_probe(const std::string& db, const std::string& chain_id) {
  auto t0 = clock_type::now();
  engine_config c;
  c.db_path = db;
  c.log_sink = [](std::string_view, std::string_view) {};
  engine eng(c);
  auto r = eng.get(chain_id);
  auto ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
  return json{{"first_answer_ms", ms}, {"rss_mib", rss_kib() / 1024.0}, {"found", r.has_value()}};
}

result bench_history(const std::string& policy, std::size_t threads, bool durable, int first, int total) {
  auto cfg = bench_config(policy, threads);
  cfg.retain_chains = 10000;  // the default: memory is bounded by limits.retainedBytes
  std::string db;
  if (durable) {
    auto dir = std::filesystem::temp_directory_path() / ("coworker-history-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    db = (dir / "history.db").string();
    cfg.db_path = db;
  } else {
    cfg.db_path.clear();
  }
  auto chain = w1_chain();
  json n{{"mode", durable ? "durable" : "in-memory"}};
  std::string oldest;
  double secs = 0;
  auto phase = [&](int chains, const std::string& at) {  // durable: one engine per phase, a restart between
    engine eng(cfg);
    register_noop(eng);
    if (oldest.empty()) {
      oldest = first_chain(eng, chain);
      --chains;
    }
    drive(eng, chain, chains, 64, secs);
    n["rss_mib_" + at] = rss_kib() / 1024.0;
    n["live_heap_mib_" + at] = live_heap_mib();
    n["steps_per_s_" + at] = chains * 10 / secs;
  };  // the engine closes here: SQLite checkpoints the WAL into the file
  if (durable) {
    phase(first, std::to_string(first));
    n["store_bytes_per_chain_" + std::to_string(first)] = static_cast<double>(file_bytes(db)) / first;
    n["restart_" + std::to_string(first)] = restart(db, oldest);
    phase(total - first, std::to_string(total));
    n["store_bytes_per_chain_" + std::to_string(total)] = static_cast<double>(file_bytes(db)) / total;
    n["restart_" + std::to_string(total)] = restart(db, oldest);
    if (std::getenv("COWORKER_BENCH_KEEP_DB")) {
      n["file"] = db;  // to look inside (sqlite3's dbstat)
    } else {
      std::filesystem::remove_all(std::filesystem::path(db).parent_path());
    }
  } else {
    // One engine throughout: memory mode has nothing to restart from.
    engine eng(cfg);
    register_noop(eng);
    oldest = first_chain(eng, chain);
    drive(eng, chain, first - 1, 64, secs);
    n["rss_mib_" + std::to_string(first)] = rss_kib() / 1024.0;
    n["live_heap_mib_" + std::to_string(first)] = live_heap_mib();
    drive(eng, chain, total - first, 64, secs);
    n["rss_mib_" + std::to_string(total)] = rss_kib() / 1024.0;
    n["live_heap_mib_" + std::to_string(total)] = live_heap_mib();
    n["steps_per_s_" + std::to_string(total)] = (total - first) * 10 / secs;
  }
  return {std::string("HISTORY ") + (durable ? "durable" : "memory"), n};
}

}  // namespace coworker::bench

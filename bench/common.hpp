// What the workloads of coworker-bench share: the W1 chain and its no-op operation, a driver that keeps
// N chains in flight, RSS readings and the engine configuration of a run of the bench.
#pragma once

#include <dlfcn.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "coworker/coworker.hpp"
#include "store/database.hpp"

namespace coworker::bench {

using clock_type = std::chrono::steady_clock;

struct result {
  std::string name;
  json numbers;
};

/// CPU seconds this process used so far, every thread, user and system: what a workload costs
/// stays comparable when a shared machine's speed changes from one run to the next.
inline double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

/// A "Vm...:" line of /proc/self/status, in KiB.
inline long status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(field.size()));
  return 0;
}
inline long peak_rss_kib() { return status_kib("VmHWM:"); }
inline long rss_kib() { return status_kib("VmRSS:"); }

/// The bytes the program holds (allocated, not freed) when the allocator can tell (tcmalloc), else -1:
/// RSS minus this is what the allocator keeps for reuse.
inline double live_heap_mib() {
  using get_fn = int (*)(const char*, std::size_t*);
  static auto get = reinterpret_cast<get_fn>(dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty"));
  std::size_t v = 0;
  if (!get || !get("generic.current_allocated_bytes", &v)) return -1;
  return static_cast<double>(v) / (1024 * 1024);
}


inline std::string g_db_dir;    // set: durable mode, a fresh SQLite file per engine
inline std::string g_pg_server;  // set: durable mode on this PostgreSQL server, a fresh database per engine
inline std::vector<std::string> g_pg_databases;

/// A new database on g_pg_server (dropped by drop_pg_databases): its URL.
inline std::string fresh_pg_database() {
  const auto name = "bench_" + std::to_string(getpid()) + "_" + std::to_string(g_pg_databases.size());
  auto admin = store::sql::open(g_pg_server, "the benchmark");
  if (!admin || !(*admin)->exec("CREATE DATABASE " + name)) {
    std::fprintf(stderr, "coworker-bench: cannot make a database on %s\n", store::sql::display_name(g_pg_server).c_str());
    std::exit(1);
  }
  g_pg_databases.push_back(name);
  return g_pg_server.substr(0, g_pg_server.rfind('/') + 1) + name;
}

inline void drop_pg_databases() {
  auto admin = store::sql::open(g_pg_server, "the benchmark");
  for (const auto& name : g_pg_databases)
    if (admin) (void)(*admin)->exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
}

inline engine_config bench_config(const std::string& policy, std::size_t threads) {
  engine_config c;
  if (!g_pg_server.empty()) {
    c.db_path = fresh_pg_database();
  } else if (!g_db_dir.empty()) {
    static int n = 0;
    c.db_path = g_db_dir + "/bench-" + std::to_string(n++) + ".db";
  }
  c.scheduler_policy = policy;
  c.threads = threads;
  c.retain_chains = 1000;
  c.log_sink = [](std::string_view, std::string_view) {};
  return c;
}

inline void register_noop(engine& eng) {
  // The no-op of W1: passes its input on with a counter added.
  (void)eng.register_operation("noop", [](const op_request& r) -> expected<json> {
    json out = r.in();
    if (out.is_object()) out["counter"] = out.value("counter", 0) + 1;
    return out;
  });
}

inline json w1_chain() {
  json payload = json::object();
  for (int i = 0; i < 16; ++i) payload["field" + std::to_string(i)] = std::string(48, static_cast<char>('a' + i));
  json children = json::array();
  for (int i = 0; i < 10; ++i) children.push_back(json{{"operation", "noop"}});
  return json{{"operation", "run"}, {"input", payload}, {"children", children}};
}

/// Runs `total` chains keeping `concurrency` in flight; returns per-chain latencies in ms.
inline std::vector<double> drive(engine& eng, const json& chain, int total, int concurrency, double& seconds) {
  std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<std::string, clock_type::time_point> started;
  std::vector<double> lat;
  lat.reserve(static_cast<std::size_t>(total));
  int submitted = 0, done = 0;
  auto submit_one = [&] {
    auto t0 = clock_type::now();
    auto id = eng.submit(chain);
    if (!id) {
      std::fprintf(stderr, "submit failed: %s\n", id.error().message.c_str());
      std::abort();
    }
    started[*id] = t0;  // under mu
    ++submitted;
  };
  auto sub = eng.subscribe([&](const event& e) {
    if (e.kind != event_kind::after_run || !e.run->owner_run_id.empty()) return;
    auto now = clock_type::now();
    std::lock_guard lock(mu);
    auto it = started.find(e.run->id);
    if (it == started.end()) return;
    lat.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
    started.erase(it);
    ++done;
    if (submitted < total) submit_one();
    cv.notify_all();
  });
  auto t0 = clock_type::now();
  {
    std::unique_lock lock(mu);
    for (int i = 0; i < concurrency && submitted < total; ++i) submit_one();
    cv.wait(lock, [&] { return done == total; });
  }
  seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  return lat;
}

}  // namespace coworker::bench

// coworker-bench: the workloads of docs/performance.md, measured on the embedded engine.
//   W1  10 sequential no-op steps passing a ~1 KB object on, at concurrency 1 and 64
//   W2  one chain with a forEach of N no-op steps (N = 1,000 and 10,000)
//   MEM peak RSS with 10,000 chains in flight, each in a `wait` step
//   LIST W1 c=64 with 10,000 finished chains held, alone and with a reader making a web view's two
//        requests (snapshot and list) once and ten times a second, three rounds of each, alternately
//   DAEMON  W1 c=64 through ZeroMQ requests, with W3: a subscriber counting events and seq gaps;
//           W2 N=10,000 through ZeroMQ (submit to reply, the reply carrying the record tree)
//   HISTORY RSS and store bytes per chain after 10,000 and 100,000 finished W1 chains, in memory and
//           durable, and the time and RSS of a restart on the file (bench/history.cpp)
// --durable runs every engine on a SQLite file (--postgresql URL: on a database of that server). Prints a table; --json FILE writes the numbers;
// --quick runs a tiny smoke version.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <filesystem>

#include <CLI/CLI.hpp>
#include <zmq.hpp>

#include "coworker/coworker.hpp"
#include "coworker/service.hpp"
#include "protocol/request_handler.hpp"

#include "common.hpp"
#include "history.hpp"

using namespace coworker;
using namespace coworker::bench;

namespace {

result bench_w1(const std::string& policy, std::size_t threads, int total, int concurrency) {
  engine eng(bench_config(policy, threads));
  register_noop(eng);
  auto chain = w1_chain();
  double warm = 0;
  drive(eng, chain, std::min(total, 200), concurrency, warm);
  double secs = 0;
  auto lat = drive(eng, chain, total, concurrency, secs);
  json n{{"chains", total},
         {"concurrency", concurrency},
         {"chains_per_s", total / secs},
         {"steps_per_s", total * 10 / secs},
         {"p50_ms", percentile(lat, 0.50)},
         {"p99_ms", percentile(lat, 0.99)}};
  return {"W1 c=" + std::to_string(concurrency), n};
}

result bench_w2(const std::string& policy, std::size_t threads, int n) {
  engine eng(bench_config(policy, threads));
  register_noop(eng);
  json items = json::array();
  for (int i = 0; i < n; ++i) items.push_back(i);
  json chain{{"operation", "run"},
             {"input", {{"items", items}}},
             {"children", json::array({json{{"id", "each"},
                                            {"forEach", "{{input.items}}"},
                                            {"as", "item"},
                                            {"do", {{"operation", "noop"}}}}})}};
  std::vector<double> times;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = clock_type::now();
    auto id = eng.submit(chain);
    if (!id) {
      std::fprintf(stderr, "W2 submit failed: %s\n", id.error().message.c_str());
      std::abort();
    }
    auto r = eng.wait(*id);
    times.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
    if (!r || r->status != run_status::completed) std::fprintf(stderr, "W2 chain did not complete\n");
  }
  return {"W2 N=" + std::to_string(n), json{{"n", n}, {"best_ms", *std::min_element(times.begin(), times.end())},
                                            {"median_ms", percentile(times, 0.5)}}};
}

result bench_memory(const std::string& policy, std::size_t threads, int n) {
  long before = rss_kib();
  engine eng(bench_config(policy, threads));
  json chain = json::parse(R"({"operation":"run","children":[{"operation":"wait","input":{"ms":2000}}]})");
  auto t0 = clock_type::now();
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    auto id = eng.submit(chain);
    if (id) ids.push_back(*id);
  }
  // Let every chain reach its wait step.
  while (eng.seq() < static_cast<std::uint64_t>(2 * n) && clock_type::now() - t0 < std::chrono::seconds(20))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  long peak = peak_rss_kib();
  for (const auto& id : ids) (void)eng.wait(id, std::chrono::seconds(30));
  return {"MEM in flight=" + std::to_string(n),
          json{{"in_flight", n}, {"peak_rss_mib", peak / 1024.0}, {"rss_before_mib", before / 1024.0}}};
}

/// W1 through the daemon: requests over ZeroMQ (DEALER → ROUTER, `wait: true`), with a SUB
/// counting every event (W3: expected, received, seq gaps).
result bench_w1_daemon(const std::string& policy, std::size_t threads, int total, int concurrency) {
  engine eng(bench_config(policy, threads));
  register_noop(eng);
  service_config sc;
  sc.requests = sc.events = "tcp://127.0.0.1:*";
  service svc(eng, sc);
  if (!svc.start()) std::abort();
  zmq::context_t ctx;
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::rcvhwm, 0);
  sub.set(zmq::sockopt::subscribe, "");
  sub.connect(svc.events_endpoint());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::atomic<long> received{0}, gaps{0};
  std::atomic<bool> done{false};
  std::uint64_t first_seq = eng.seq() + 1;
  std::thread counter([&] {
    std::uint64_t last = first_seq - 1;
    while (!done.load() || received.load() < total * 22L) {
      zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(200)) == 0) {
        if (done.load()) break;
        continue;
      }
      zmq::message_t topic, body;
      (void)sub.recv(topic);
      (void)sub.recv(body);
      if (topic.to_string_view() == "heartbeat") continue;
      // The envelope starts {"epoch":…,"event":…,"run":…,"seq":N,…} (keys sorted): find seq cheaply,
      // so the counter does not compete with the daemon for the CPU.
      auto text = body.to_string_view();
      auto pos = text.rfind("\"seq\":");
      std::uint64_t s = pos == std::string_view::npos ? 0 : std::strtoull(text.data() + pos + 6, nullptr, 10);
      if (s != last + 1) ++gaps;
      last = s;
      ++received;
    }
  });
  zmq::socket_t req(ctx, zmq::socket_type::dealer);
  req.set(zmq::sockopt::linger, 0);
  req.set(zmq::sockopt::rcvhwm, 0);
  req.set(zmq::sockopt::sndhwm, 0);
  req.connect(svc.requests_endpoint());
  auto request = dump(json{{"type", "run"}, {"chain", w1_chain()}, {"wait", true}});
  std::vector<double> lat;
  std::deque<clock_type::time_point> sent;  // replies may come out of order; latency is approximate
  auto t0 = clock_type::now();
  const double cpu0 = process_cpu_seconds();
  int submitted = 0, finished = 0;
  auto send_one = [&] {
    req.send(zmq::message_t(), zmq::send_flags::sndmore);
    req.send(zmq::buffer(request), zmq::send_flags::none);
    sent.push_back(clock_type::now());
    ++submitted;
  };
  for (int i = 0; i < concurrency && submitted < total; ++i) send_one();
  while (finished < total) {
    zmq::message_t delim, reply;
    (void)req.recv(delim);
    (void)req.recv(reply);
    lat.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - sent.front()).count());
    sent.pop_front();
    ++finished;
    if (submitted < total) send_one();
  }
  double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  const double cpu = process_cpu_seconds() - cpu0;  // the daemon's and the clients' (one process)
  auto deadline = clock_type::now() + std::chrono::seconds(10);
  while (received.load() < total * 22L && clock_type::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  done = true;
  counter.join();
  svc.stop();
  json n{{"chains", total},     {"concurrency", concurrency},         {"chains_per_s", total / secs},
         {"steps_per_s", total * 10 / secs}, {"p50_ms", percentile(lat, 0.5)}, {"p99_ms", percentile(lat, 0.99)},
         {"cpu_us_per_chain", cpu * 1e6 / total}, {"W3_events_expected", total * 22L}, {"W3_events_received", received.load()}, {"W3_seq_gaps", gaps.load()}};
  return {"W1 daemon c=" + std::to_string(concurrency), n};
}

/// W2 through the daemon: one forEach chain of N no-op steps submitted with `wait: true`.
result bench_w2_daemon(const std::string& policy, std::size_t threads, int n) {
  engine eng(bench_config(policy, threads));
  register_noop(eng);
  service_config sc;
  sc.requests = sc.events = "tcp://127.0.0.1:*";
  service svc(eng, sc);
  if (!svc.start()) std::abort();
  zmq::context_t ctx;
  zmq::socket_t req(ctx, zmq::socket_type::dealer);
  req.set(zmq::sockopt::linger, 0);
  req.connect(svc.requests_endpoint());
  json items = json::array();
  for (int i = 0; i < n; ++i) items.push_back(i);
  json chain{{"operation", "run"},
             {"input", {{"items", items}}},
             {"children", json::array({json{{"id", "each"}, {"forEach", "{{input.items}}"}, {"as", "item"},
                                            {"do", {{"operation", "noop"}}}}})}};
  auto request = dump(json{{"type", "run"}, {"chain", chain}, {"wait", true}});
  std::vector<double> times;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = clock_type::now();
    req.send(zmq::message_t(), zmq::send_flags::sndmore);
    req.send(zmq::buffer(request), zmq::send_flags::none);
    zmq::message_t delim, reply;
    (void)req.recv(delim);
    (void)req.recv(reply);
    times.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
  }
  svc.stop();
  return {"W2 daemon N=" + std::to_string(n),
          json{{"n", n}, {"best_ms", *std::min_element(times.begin(), times.end())}, {"median_ms", percentile(times, 0.5)}}};
}

/// W1 c=64 on an engine holding `retained` finished chains, alone and with a reader that makes a web
/// view's page load (snapshot of 100 chains and a list of 100) every `period_ms`, in alternate rounds.
/// A web view loads once and then follows the events (web/follow.js); a reader without pause would
/// measure the reader's own CPU on a 2-core machine, not the locks runs need.
result bench_list(const std::string& policy, std::size_t threads, int retained, int total, int period_ms) {
  auto cfg = bench_config(policy, threads);
  cfg.retain_chains = static_cast<std::size_t>(retained);
  engine eng(cfg);
  register_noop(eng);
  auto chain = w1_chain();
  double secs = 0;
  drive(eng, chain, retained, 64, secs);  // fills the history
  std::atomic<bool> reading{false}, stop{false};
  std::atomic<long> reads{0};
  double read_seconds = 0;  // the reader's own time, building both replies
  std::thread reader([&] {
    // The requests a web view makes (GET /api/snapshot and /api/runs?roots), answered as the
    // daemon and the web view answer them: text written from the records.
    while (!stop.load()) {
      if (reading.load()) {
        const auto t0 = std::chrono::steady_clock::now();
        auto snap = protocol::handle_request(eng, std::string_view(R"({"type":"snapshot","recent":100})"));
        auto page = protocol::handle_request(eng, std::string_view(R"({"type":"list","roots":true,"limit":100})"));
        reads += static_cast<long>(snap.reply_text.size() > 1000 && page.reply_text.size() > 1000);
        read_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(period_ms));
    }
  });
  // Rounds without and with the reader, alternately, so that a drift of the machine or of the
  // engine (its history growing) weighs on both alike.
  constexpr int rounds = 3;
  double alone = 0, loaded = 0;
  json each = json::array();
  for (int round = 0; round < rounds; ++round) {
    double a = 0, l = 0;
    drive(eng, chain, total / rounds, 64, a);
    reading = true;
    drive(eng, chain, total / rounds, 64, l);
    reading = false;
    alone += a;
    loaded += l;
    each.push_back(a / l);
  }
  stop = true;
  reader.join();
  const double chains = static_cast<double>(total / rounds * rounds);
  json n{{"retained_chains", retained},
         {"read_every_ms", period_ms},
         {"steps_per_s_alone", chains * 10 / alone},
         {"steps_per_s_with_reader", chains * 10 / loaded},
         {"reads", reads.load()},
         {"reads_per_s", static_cast<double>(reads.load()) / loaded},
         {"ms_per_read", reads.load() ? read_seconds * 1000 / static_cast<double>(reads.load()) : 0.0},
         {"throughput_kept", alone / loaded},
         {"throughput_kept_each_round", each}};
  return {period_ms >= 1000 ? "LIST, a read a second" : "LIST, 10 reads a second", n};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"coworker-bench: per-step cost of the engine"};
  std::string json_file, policy = "sharing", only;
  std::size_t threads = 0;
  bool quick = false, durable = false;
  app.add_option("--json", json_file, "write the results as JSON to this file");
  app.add_option("--scheduler", policy, "sharing or stealing");
  app.add_option("--threads", threads, "scheduler threads (0: cores)");
  app.add_option("--only", only, "run only workloads whose name starts with this (W1, W2, MEM, LIST, HISTORY, DAEMON)");
  app.add_flag("--quick", quick, "a tiny smoke run (for the test suite)");
  app.add_flag("--durable", durable, "run every engine on a SQLite file (commit before publish)");
  app.add_option("--postgresql", g_pg_server,
                 "durable on this PostgreSQL server instead (postgresql://…/postgres): a fresh database per "
                 "engine (W1, W2, MEM, LIST, DAEMON; HISTORY stays on files)");
  std::string probe_db, probe_id;
  int history_first = 10000, history_total = 100000;
  app.add_option("--history-first", history_first, "HISTORY: chains before the first reading (10,000)");
  app.add_option("--history-total", history_total, "HISTORY: chains before the second reading (100,000)");
  app.add_option("--restart-probe", probe_db, "(internal) start an engine on this file and time its first answer");
  app.add_option("--probe-get", probe_id, "(internal) the run the restart probe asks for");
  CLI11_PARSE(app, argc, argv);
  if (!probe_db.empty()) {
    std::printf("%s\n", restart_probe(probe_db, probe_id).dump().c_str());
    return 0;
  }

  if (durable) {
    g_db_dir = (std::filesystem::temp_directory_path() / ("coworker-bench-" + std::to_string(getpid()))).string();
    std::filesystem::create_directories(g_db_dir);
  }
  auto want = [&](const char* name) { return only.empty() || std::string(name).rfind(only, 0) == 0; };
  std::vector<result> results;
  if (want("W1")) {
    results.push_back(bench_w1(policy, threads, quick ? 20 : 200, 1));
    results.push_back(bench_w1(policy, threads, quick ? 100 : 5000, 64));
  }
  if (want("W2")) {
    results.push_back(bench_w2(policy, threads, quick ? 100 : 1000));
    if (!quick) results.push_back(bench_w2(policy, threads, 10000));
  }
  if (want("MEM")) results.push_back(bench_memory(policy, threads, quick ? 200 : 10000));
  if (want("LIST"))  // a web view's page load (it follows events after it), once a second and ten times
    for (int period : {1000, 100}) results.push_back(bench_list(policy, threads, quick ? 200 : 10000, quick ? 90 : 30000, period));
  if (want("HISTORY")) {
    if (quick) history_first = 100, history_total = 300;
    results.push_back(bench_history(policy, threads, false, history_first, history_total));
    results.push_back(bench_history(policy, threads, true, history_first, history_total));
  }
  if (want("DAEMON")) {
    results.push_back(bench_w1_daemon(policy, threads, quick ? 100 : 5000, 64));
    results.push_back(bench_w2_daemon(policy, threads, quick ? 100 : 10000));
  }

  std::printf("%-22s %s\n", "workload", "numbers");
  json all = json::object();
  for (const auto& r : results) {
    std::printf("%-22s %s\n", r.name.c_str(), r.numbers.dump().c_str());
    all[r.name] = r.numbers;
  }
  all["scheduler"] = policy;
  all["mode"] = !g_pg_server.empty() ? "durable on PostgreSQL" : durable ? "durable" : "in-memory";
  if (durable) std::filesystem::remove_all(g_db_dir);
  if (!g_pg_server.empty()) drop_pg_databases();
  all["threads"] = threads ? threads : std::thread::hardware_concurrency();
  if (!json_file.empty()) std::ofstream(json_file) << all.dump(2) << "\n";
  return 0;
}

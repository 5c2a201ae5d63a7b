// coworker::otlp_exporter (include/coworker/otlp.hpp; docs/tracing.md): a subscriber of the
// committed events that queues the ended records of traced chains, and one thread that posts them
// as OTLP/HTTP JSON with cpp-httplib, in batches, retrying with backoff while the endpoint is down.
#include "coworker/otlp.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

#include "core/otlp_spans.hpp"
#include "core/thread_name.hpp"

namespace coworker {

struct otlp_exporter::impl {
  engine& eng;
  otlp_config cfg;
  std::string origin;  ///< scheme://host:port
  std::string path;    ///< /v1/traces unless the endpoint names one
  subscription sub;
  std::thread thread;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<std::shared_ptr<const run_record>> queue;
  bool stopping = false;
  std::chrono::steady_clock::time_point give_up_at = std::chrono::steady_clock::time_point::max();
  counters stats;

  impl(engine& e, otlp_config c) : eng(e), cfg(std::move(c)) {}

  void log(std::string_view level, const std::string& text) const {
    if (eng.config().log_sink) eng.config().log_sink(level, text);
    else std::fprintf(stderr, "[%.*s] %s\n", static_cast<int>(level.size()), level.data(), text.c_str());
  }

  void on_event(const event& e) {
    if (e.kind != event_kind::after_run || !e.run || e.run->trace_id.empty()) return;
    std::lock_guard lock(mu);
    if (stopping) return;
    if (queue.size() >= cfg.max_queued) {
      queue.pop_front();
      ++stats.dropped;
    }
    queue.push_back(e.run);
    if (queue.size() == 1 || queue.size() >= cfg.batch) cv.notify_one();
  }

  /// Posts one batch: true when it is done with (accepted, or refused for good).
  bool post(httplib::Client& client, const std::vector<std::shared_ptr<const run_record>>& batch, std::string& why) {
    std::vector<json> spans;
    spans.reserve(batch.size());
    for (const auto& r : batch) spans.push_back(span_of(*r));
    auto body = export_request(std::move(spans), cfg.service_name).dump();
    auto res = client.Post(path, body, "application/json");
    if (!res) {
      why = httplib::to_string(res.error());
      return false;
    }
    if (res->status >= 200 && res->status < 300) return true;
    why = "HTTP " + std::to_string(res->status);
    // 429 and 5xx may pass later (the OTLP/HTTP spec's retryable codes); any other refusal will not.
    if (res->status == 429 || res->status == 502 || res->status == 503 || res->status == 504) return false;
    log("warning", "OTLP endpoint " + cfg.endpoint + " refused " + std::to_string(batch.size()) + " spans (" + why +
                       "): dropped");
    std::lock_guard lock(mu);
    stats.dropped += batch.size();
    return true;
  }

  void loop() {
    httplib::Client client(origin);
    client.set_connection_timeout(cfg.timeout);
    client.set_read_timeout(cfg.timeout);
    client.set_write_timeout(cfg.timeout);
    std::vector<std::shared_ptr<const run_record>> batch;
    auto backoff = std::chrono::milliseconds(250);
    bool failing = false;
    for (;;) {
      {
        std::unique_lock lock(mu);
        if (batch.empty()) {
          cv.wait(lock, [&] { return stopping || !queue.empty(); });
          if (queue.empty()) return;  // stopping, all posted
          while (!queue.empty() && batch.size() < cfg.batch) {
            batch.push_back(std::move(queue.front()));
            queue.pop_front();
          }
        }
        if (std::chrono::steady_clock::now() >= give_up_at) {
          stats.dropped += batch.size() + queue.size();
          queue.clear();
          return;
        }
      }
      std::string why;
      if (post(client, batch, why)) {
        std::lock_guard lock(mu);
        if (why.empty()) stats.exported += batch.size();
        batch.clear();
        if (failing) log("info", "OTLP export to " + cfg.endpoint + " works again");
        failing = false;
        backoff = std::chrono::milliseconds(250);
        continue;
      }
      {
        std::unique_lock lock(mu);
        ++stats.failed_requests;
        if (!failing)
          log("warning", "OTLP export to " + cfg.endpoint + " failed (" + why + "); " + std::to_string(batch.size() + queue.size()) +
                             " spans held, retrying");
        failing = true;
        // Wait before trying again; once stopping, try every 100 ms until the flush time is up.
        if (stopping) cv.wait_for(lock, std::chrono::milliseconds(100));
        else cv.wait_for(lock, backoff, [&] { return stopping; });
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }
};

otlp_exporter::otlp_exporter(engine& eng, otlp_config cfg) : impl_(std::make_unique<impl>(eng, std::move(cfg))) {}

otlp_exporter::~otlp_exporter() { stop(); }

expected<void> otlp_exporter::start() {
  auto& i = *impl_;
  const auto& url = i.cfg.endpoint;
  if (url.rfind("https://", 0) == 0)
    return make_error(codes::invalid_input, "OTLP endpoint " + url + ": https is not built in; export to a local collector over http://",
                      "/otlp/endpoint");
  if (url.rfind("http://", 0) != 0 || url.size() <= 7)
    return make_error(codes::invalid_input, "OTLP endpoint '" + url + "' is not an http://HOST:PORT[/PATH] URL", "/otlp/endpoint");
  const auto slash = url.find('/', 7);
  i.origin = url.substr(0, slash);
  i.path = slash == std::string::npos || slash == url.size() - 1 ? "/v1/traces" : url.substr(slash);
  if (i.origin.size() <= 7 || i.origin.find_first_of(" \t?#") != std::string::npos)
    return make_error(codes::invalid_input, "OTLP endpoint '" + url + "' names no host", "/otlp/endpoint");
  i.thread = std::thread([&i] {
    name_thread("cw-otlp");
    i.loop();
  });
  i.sub = i.eng.subscribe([&i](const event& e) { i.on_event(e); });
  return {};
}

void otlp_exporter::stop(std::chrono::milliseconds flush) {
  auto& i = *impl_;
  i.sub.reset();
  {
    std::lock_guard lock(i.mu);
    if (i.stopping) return;
    i.stopping = true;
    i.give_up_at = std::chrono::steady_clock::now() + flush;
  }
  i.cv.notify_all();
  if (i.thread.joinable()) i.thread.join();
}

otlp_exporter::counters otlp_exporter::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace coworker

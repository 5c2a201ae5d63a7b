// worker_broker: worker registry, least-busy dispatch within capacity, failover of lost workers.
#include "worker_broker.hpp"

#include <algorithm>

namespace coworker {

namespace {
constexpr std::size_t max_answer_bytes = 4 * 1024 * 1024;
constexpr std::size_t max_queued = 100000;
}  // namespace

worker_broker::worker_broker(engine& eng, zmq::context_t& ctx, std::function<void()> ring,
                             std::chrono::milliseconds heartbeat, std::set<std::string> routed)
    : eng_(eng), sock_(ctx, zmq::socket_type::router), ring_(std::move(ring)), heartbeat_(heartbeat),
      routed_(std::move(routed)), shared_(std::make_shared<shared>()) {}

worker_broker::~worker_broker() = default;

expected<void> worker_broker::bind(const std::string& endpoint) {
  try {
    sock_.set(zmq::sockopt::linger, 0);
    sock_.set(zmq::sockopt::router_mandatory, 1);
    sock_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_answer_bytes * 2));
    sock_.bind(endpoint);
    endpoint_ = sock_.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return make_error("bind_failed", "cannot listen for workers on " + endpoint + ": " + e.what());
  }
  return {};
}

void worker_broker::send(const std::string& identity, const json& msg) {
  try {
    sock_.send(zmq::buffer(identity), zmq::send_flags::sndmore);
    sock_.send(zmq::buffer(dump(msg)), zmq::send_flags::none);
  } catch (const zmq::error_t&) {
    // The worker is gone; its heartbeat timeout will hand its tasks on.
  }
}

void worker_broker::register_op(const std::string& name, const json& schema) {
  if (served_[name]++ > 0) return;
  auto existing = eng_.operations();
  auto builtin = std::find_if(existing.begin(), existing.end(), [&](const auto& op) {
    return op->name == name && op->description.rfind("served by remote workers", 0) != 0;
  });
  if (builtin != existing.end()) {
    if (!routed_.count(name)) return;  // built-in operations are not replaced unless routed
    replaced_.emplace(name, **builtin);
  }
  registered_.insert(name);
  operation op;
  op.name = name;
  op.mode = handler_mode::async;
  op.description = "served by remote workers";
  op.input_schema = schema;
  std::weak_ptr<shared> weak = shared_;
  auto ring = ring_;
  op.async = [weak, ring, name](const op_request& req, responder r) {
    auto s = weak.lock();
    if (!s) {
      r.fail(make_error(codes::worker_lost, "no worker serves '" + name + "' any more"));
      return;
    }
    {
      std::lock_guard lock(s->mu);
      if (!s->open) {
        r.fail(make_error(codes::worker_lost, "the worker endpoint is closed"));
        return;
      }
      if (s->incoming.size() >= max_queued) {
        r.fail(make_error(codes::busy, "too many tasks are waiting for workers"));
        return;
      }
      s->incoming.push_back(task{{}, name, req.run_id, req.input, req.deadline, r, {}, req.attempt});
    }
    ring();
  };
  (void)eng_.register_operation(std::move(op));
}

void worker_broker::hello(const std::string& identity, const json& msg) {
  auto& w = workers_[identity];
  for (const auto& op : w.ops) --served_[op];  // a second hello replaces the first
  w.ops.clear();
  w.capacity = std::clamp(msg.value("capacity", 1), 1, 1000);
  w.last_seen = std::chrono::steady_clock::now();
  if (msg.contains("operations") && msg["operations"].is_array()) {
    for (const auto& o : msg["operations"]) {
      std::string name = o.is_string() ? o.get<std::string>() : o.is_object() ? o.value("name", std::string()) : "";
      if (name.empty() || name == "run") continue;
      w.ops.insert(name);
      register_op(name, o.is_object() ? o.value("inputSchema", json()) : json());
    }
  }
  send(identity, json{{"type", "welcome"}, {"heartbeatMs", heartbeat_.count()}, {"operations", w.ops}});
}

void worker_broker::fail(task& t, const std::string& code, const std::string& message) {
  t.reply.fail(make_error(code, message));
}

void worker_broker::answer(const std::string& identity, const json& msg) {
  auto id = msg.value("taskId", std::string());
  auto it = tasks_.find(id);
  if (it == tasks_.end() || it->second.worker != identity) {
    // Unknown, or answered by a worker that lost it already: ignored, never applied twice.
    if (eng_.config().log_sink) eng_.config().log_sink("warn", "answer for unknown task '" + id + "' ignored");
    return;
  }
  auto t = std::move(it->second);
  tasks_.erase(it);
  workers_[identity].tasks.erase(id);
  if (msg["type"] == "result") {
    t.reply.ok(msg.contains("output") ? msg["output"] : json());
  } else {
    const auto& e = msg.contains("error") && msg["error"].is_object() ? msg["error"] : json::object();
    t.reply.fail(make_error(e.value("code", std::string(codes::handler_error)),
                            "worker: " + e.value("message", std::string("failed"))));
  }
}

void worker_broker::on_message() {
  while (true) {
    zmq::message_t idm, body;
    if (!sock_.recv(idm, zmq::recv_flags::dontwait)) return;
    std::string identity = idm.to_string();
    std::vector<zmq::message_t> rest;
    bool more = idm.more();
    while (more) {
      zmq::message_t m;
      (void)sock_.recv(m);
      more = m.more();
      rest.push_back(std::move(m));
    }
    auto known = workers_.find(identity);
    if (known != workers_.end()) known->second.last_seen = std::chrono::steady_clock::now();
    // [identity] [optional empty delimiter] [JSON]
    if (!rest.empty() && rest.front().size() == 0) rest.erase(rest.begin());
    auto reject = [&](const char* why) {
      if (eng_.config().log_sink) eng_.config().log_sink("warn", "worker message rejected: " + std::string(why));
    };
    if (rest.size() != 1 || rest[0].size() > max_answer_bytes) {
      reject("not one frame of at most 4 MiB");
      send(identity, json{{"type", "error"}, {"error", {{"code", codes::bad_json}, {"message", "one JSON frame of at most 4 MiB"}}}});
      continue;
    }
    auto msg = json::parse(rest[0].to_string_view(), nullptr, false);
    if (msg.is_discarded() || !msg.is_object() || !msg.contains("type") || !msg["type"].is_string()) {
      reject("not a JSON message with a type");
      send(identity, json{{"type", "error"}, {"error", {{"code", codes::bad_json}, {"message", "not a JSON message with a type"}}}});
      continue;
    }
    const auto type = msg["type"].get<std::string>();
    if (type == "hello") {
      hello(identity, msg);
    } else if (known == workers_.end()) {
      send(identity, json{{"type", "error"}, {"error", {{"code", "not_registered"}, {"message", "send hello first"}}}});
    } else if (type == "result" || type == "error") {
      answer(identity, msg);
    } else if (type == "bye") {
      drop_worker(identity, "said bye");
    } else if (type != "heartbeat") {
      send(identity, json{{"type", "error"}, {"error", {{"code", codes::unknown_type}, {"message", "unknown type '" + type + "'"}}}});
    }
  }
}

void worker_broker::drop_worker(const std::string& identity, const std::string& why) {
  auto it = workers_.find(identity);
  if (it == workers_.end()) return;
  auto w = std::move(it->second);
  workers_.erase(it);
  std::vector<std::string> gone_ops;
  for (const auto& op : w.ops)
    if (--served_[op] == 0) gone_ops.push_back(op);
  // The operations nobody serves any more go first, so that the runs whose tasks fail below see
  // whether another worker can take a new attempt (worker_lost: the run restarts the attempt,
  // counted in its attempts, or fails when nobody serves the operation).
  for (const auto& op : gone_ops) {
    served_.erase(op);
    if (registered_.erase(op)) restore(op);
  }
  for (const auto& id : w.tasks) {
    auto t = tasks_.find(id);
    if (t == tasks_.end()) continue;
    fail(t->second, codes::worker_lost, "worker lost (" + why + ") while running task " + id);
    tasks_.erase(t);
  }
}

void worker_broker::restore(const std::string& op) {
  auto it = replaced_.find(op);
  if (it == replaced_.end()) {
    eng_.unregister_operation(op);
    return;
  }
  (void)eng_.register_operation(it->second);  // the built-in serves again
  replaced_.erase(it);
}

void worker_broker::dispatch() {
  std::deque<std::string> still;
  while (!queue_.empty()) {
    auto id = queue_.front();
    queue_.pop_front();
    auto it = tasks_.find(id);
    if (it == tasks_.end()) continue;
    auto& t = it->second;
    if (t.reply.done()) {  // timed out or cancelled meanwhile
      tasks_.erase(it);
      continue;
    }
    if (!served_.count(t.op)) {
      fail(t, codes::worker_lost, "no worker serves '" + t.op + "' any more");
      tasks_.erase(it);
      continue;
    }
    // Least busy first, within each worker's announced capacity.
    worker_state* best = nullptr;
    const std::string* best_id = nullptr;
    for (auto& [wid, w] : workers_) {
      if (!w.ops.count(t.op) || static_cast<int>(w.tasks.size()) >= w.capacity) continue;
      if (!best || w.tasks.size() < best->tasks.size()) {
        best = &w;
        best_id = &wid;
      }
    }
    if (!best) {
      still.push_back(id);
      continue;
    }
    t.worker = *best_id;
    best->tasks.insert(id);
    send(*best_id, json{{"type", "task"}, {"taskId", id}, {"runId", t.run_id}, {"operation", t.op},
                        {"input", deref(t.input)}, {"attempt", t.attempt},
                        {"deadline", t.deadline ? json(t.deadline) : json(nullptr)}});
  }
  queue_ = std::move(still);
}

void worker_broker::tick() {
  std::deque<task> incoming;
  {
    std::lock_guard lock(shared_->mu);
    incoming.swap(shared_->incoming);
  }
  for (auto& t : incoming) {
    t.id = "task-" + std::to_string(++next_task_);
    queue_.push_back(t.id);
    tasks_.emplace(t.id, std::move(t));
  }
  auto now = std::chrono::steady_clock::now();
  std::vector<std::string> silent;
  for (const auto& [id, w] : workers_)
    if (now - w.last_seen > 3 * heartbeat_) silent.push_back(id);
  for (const auto& id : silent) drop_worker(id, "stopped heartbeating");
  // Tasks whose run stopped waiting (timeout, cancel) free their worker's slot when answered;
  // queued ones are dropped by dispatch().
  dispatch();
}

void worker_broker::close() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->open = false;
    for (auto& t : shared_->incoming) t.reply.fail(make_error(codes::worker_lost, "the service stopped"));
    shared_->incoming.clear();
  }
  for (auto& [id, t] : tasks_) t.reply.fail(make_error(codes::worker_lost, "the service stopped"));
  tasks_.clear();
  queue_.clear();
  for (const auto& op : registered_) restore(op);
  registered_.clear();
  served_.clear();
  workers_.clear();
  sock_.close();
}

}  // namespace coworker

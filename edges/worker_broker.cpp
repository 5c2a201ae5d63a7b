// worker_broker: worker registry, least-busy dispatch within capacity, failover of lost workers.
#include "worker_broker.hpp"

#include <algorithm>

#include "chain/pointer.hpp"

namespace coworker {

worker_broker::worker_broker(engine& eng, zmq::context_t& ctx, std::function<void()> ring,
                             std::chrono::milliseconds heartbeat, std::set<std::string> routed)
    : eng_(eng), sock_(ctx, zmq::socket_type::router), ring_(std::move(ring)), heartbeat_(heartbeat),
      routed_(std::move(routed)), shared_(std::make_shared<shared>()) {}

worker_broker::~worker_broker() = default;

expected<void> worker_broker::bind(const std::string& endpoint) {
  try {
    sock_.set(zmq::sockopt::linger, 0);
    sock_.set(zmq::sockopt::router_mandatory, 1);
    sock_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(protocol::max_worker_frame_bytes(eng_.config().lim) + 1024));
    sock_.bind(endpoint);
    endpoint_ = sock_.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return make_error(codes::bind_failed, "cannot listen for workers on " + endpoint + ": " + e.what());
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
  auto builtin = eng_.operations();
  auto local = std::find_if(builtin.begin(), builtin.end(), [&](const auto& op) { return op->name == name && !op->remote; });
  if (local != builtin.end()) {
    if (!routed_.count(name)) return;  // built-in operations are not replaced unless routed
    replaced_.emplace(name, **local);
  }
  registered_.insert(name);
  operation op;
  op.name = name;
  op.mode = handler_mode::async;
  op.remote = true;
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
      if (s->incoming.size() >= max_queued_tasks) {
        r.fail(make_error(codes::busy, "too many tasks are waiting for workers"));
        return;
      }
      s->incoming.push_back(task{{}, name, req.run_id, req.input, req.deadline, r, {}, req.attempt, req.traceparent});
    }
    ring();
  };
  (void)eng_.register_operation(std::move(op));
}

void worker_broker::release_op(const std::string& name) {
  auto it = served_.find(name);
  if (it == served_.end() || --it->second > 0) return;
  // Nobody serves it any more: new chains naming it are refused, queued tasks fail in dispatch().
  served_.erase(it);
  if (registered_.erase(name)) restore(name);
}

void worker_broker::hello(const std::string& identity, const protocol::worker_hello& msg) {
  auto& w = workers_[identity];
  // A second hello replaces the first: what it no longer names is released, what is new is added.
  std::set<std::string> now;
  for (const auto& op : msg.operations) now.insert(op.name);
  for (const auto& op : w.ops)
    if (!now.count(op)) release_op(op);
  for (const auto& op : msg.operations)
    if (!w.ops.count(op.name)) register_op(op.name, op.input_schema);
  w.ops = std::move(now);
  w.capacity = msg.capacity;
  w.last_seen = std::chrono::steady_clock::now();
  send(identity, json{{"type", "welcome"}, {"heartbeatMs", heartbeat_.count()}, {"operations", w.ops}});
}

void worker_broker::fail(task& t, const std::string& code, const std::string& message) {
  t.reply.fail(make_error(code, message));
}

void worker_broker::answer(const std::string& identity, const std::string& task_id, expected<json> outcome) {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end() || it->second.worker != identity) {
    // Unknown, or answered by a worker that lost it already: ignored, never applied twice.
    if (eng_.config().log_sink) eng_.config().log_sink("warn", "answer for unknown task '" + chain::printable(task_id, 80) + "' ignored");
    return;
  }
  auto t = std::move(it->second);
  tasks_.erase(it);
  workers_[identity].tasks.erase(task_id);
  t.reply.complete(std::move(outcome));
}

void worker_broker::send_error(const std::string& identity, const error& e) {
  json err{{"code", e.code}, {"message", e.message}};
  if (!e.path.empty()) err["path"] = e.path;
  send(identity, json{{"type", "error"}, {"error", std::move(err)}});
}

void worker_broker::on_message() {
  while (true) {
    zmq::message_t idm;
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
    // The last-resort guard: whatever a frame does, the broker logs, answers and keeps serving.
    try {
      handle(identity, rest);
    } catch (const std::exception& e) {
      if (eng_.config().log_sink) eng_.config().log_sink("error", std::string("worker message failed: ") + e.what());
      send_error(identity, make_error(codes::internal, "the broker could not handle this message"));
    }
  }
}

void worker_broker::handle(const std::string& identity, std::vector<zmq::message_t>& rest) {
  auto known = workers_.find(identity);
  if (known != workers_.end()) known->second.last_seen = std::chrono::steady_clock::now();
  // [identity] [optional empty delimiter] [JSON]
  if (!rest.empty() && rest.front().size() == 0) rest.erase(rest.begin());
  auto reject = [&](const error& e) {
    if (eng_.config().log_sink) eng_.config().log_sink("warn", "worker message rejected: " + e.code + ": " + e.message);
    send_error(identity, e);
  };
  if (rest.size() != 1) return reject(make_error(codes::bad_json, "a worker message is one JSON frame"));
  auto msg = protocol::parse_worker_frame(rest[0].to_string_view(), eng_.config().lim);
  if (!msg) return reject(msg.error());
  if (auto* h = std::get_if<protocol::worker_hello>(&*msg)) return hello(identity, *h);
  if (known == workers_.end()) return reject(make_error(codes::not_registered, "send hello first"));
  if (auto* r = std::get_if<protocol::worker_result>(&*msg)) return answer(identity, r->task_id, std::move(r->output));
  if (auto* f = std::get_if<protocol::worker_failure>(&*msg))
    return answer(identity, f->task_id, make_error(f->code, "worker: " + f->message));
  if (std::holds_alternative<protocol::worker_bye>(*msg)) drop_worker(identity, "said bye");
  // heartbeat: seen above
}

void worker_broker::drop_worker(const std::string& identity, const std::string& why) {
  auto it = workers_.find(identity);
  if (it == workers_.end()) return;
  auto w = std::move(it->second);
  workers_.erase(it);
  // The operations nobody serves any more go first, so that the runs whose tasks fail below see
  // whether another worker can take a new attempt (worker_lost: the run restarts the attempt,
  // counted in its attempts, or fails when nobody serves the operation).
  for (const auto& op : w.ops) release_op(op);
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
    json msg{{"type", "task"}, {"taskId", id}, {"runId", t.run_id}, {"operation", t.op},
             {"input", deref(t.input)}, {"attempt", t.attempt},
             {"deadline", t.deadline ? json(t.deadline) : json(nullptr)}};
    if (!t.traceparent.empty()) msg["traceparent"] = t.traceparent;
    send(*best_id, msg);
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

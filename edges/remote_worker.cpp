// remote_worker: a DEALER (one per node of a cluster) that says hello, answers tasks and heartbeats.
#include "coworker/worker.hpp"

#include <cerrno>

#include <zmq.hpp>

#include "coworker/security.hpp"
#include "protocol/fields.hpp"

namespace coworker {

void remote_worker::serve(std::string name, sync_handler fn, json input_schema) {
  ops_[std::move(name)] = entry{std::move(fn), std::move(input_schema)};
}

expected<std::size_t> remote_worker::run() {
  zmq::context_t ctx;
  const auto endpoints = cfg_.endpoints.empty() ? std::vector<std::string>{cfg_.endpoint} : cfg_.endpoints;
  std::vector<zmq::socket_t> socks;
  for (const auto& endpoint : endpoints) {
    auto& sock = socks.emplace_back(ctx, zmq::socket_type::dealer);
    sock.set(zmq::sockopt::linger, 0);
    if (!cfg_.curve_server_key.empty() || !cfg_.curve_secret_key.empty()) {
      auto pub = curve_public_key(cfg_.curve_secret_key);
      if (!pub) return make_error(codes::invalid_input, "worker CURVE secret key: " + pub.error().message);
      if (!is_curve_key(cfg_.curve_server_key))
        return make_error(codes::invalid_input, "worker CURVE server key: not a CURVE key");
      sock.set(zmq::sockopt::curve_serverkey, cfg_.curve_server_key);
      sock.set(zmq::sockopt::curve_publickey, *pub);
      sock.set(zmq::sockopt::curve_secretkey, cfg_.curve_secret_key);
    }
    sock.connect(endpoint);
  }
  json ops = json::array();
  for (const auto& [name, e] : ops_) ops.push_back(json{{"name", name}, {"inputSchema", e.schema}});
  auto send = [](zmq::socket_t& sock, const json& m) { sock.send(zmq::buffer(dump(m)), zmq::send_flags::none); };
  auto to_all = [&](const json& m) {
    for (auto& sock : socks) send(sock, m);
  };
  // One task at a time: each node is offered one (docs/cluster.md, "Workers").
  to_all(json{{"type", "hello"}, {"operations", ops}, {"capacity", 1}});
  std::size_t served = 0;
  auto last_beat = std::chrono::steady_clock::now();
  std::vector<zmq::pollitem_t> items;
  for (auto& sock : socks) items.push_back({sock.handle(), 0, ZMQ_POLLIN, 0});
  while (!stop_) {
    try {
      zmq::poll(items, std::chrono::milliseconds(100));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;  // a signal (a SIGTERM whose handler calls stop())
      return make_error(codes::internal, std::string("worker poll: ") + e.what());
    }
    for (std::size_t i = 0; i < socks.size() && !stop_; ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      auto& sock = socks[i];
      zmq::message_t m;
      if (!sock.recv(m, zmq::recv_flags::dontwait)) continue;
      auto msg = json::parse(m.to_string_view(), nullptr, false);
      if (msg.is_discarded() || !msg.is_object()) continue;
      // Frames from the broker are read with the typed readers too: a wrong type is skipped.
      auto type = protocol::string_field(msg, "type", true);
      if (!type) continue;
      if (*type == "error") {
        auto err = protocol::object_field(msg, "error");
        const json& e = err && *err ? **err : json::object();
        auto code = protocol::string_field(e, "code", false);
        auto message = protocol::string_field(e, "message", false);
        return make_error(code && !code->empty() ? *code : std::string("error"), message ? *message : std::string());
      }
      auto task_id = protocol::string_field(msg, "taskId", true);
      auto operation = protocol::string_field(msg, "operation", true);
      auto run_id = protocol::string_field(msg, "runId", false);
      auto attempt = protocol::int_field(msg, "attempt", 1, 1, INT32_MAX);
      if (*type != "task" || !task_id || !operation || !run_id || !attempt) continue;
      send(sock, answer(*task_id, *operation, *run_id, static_cast<int>(*attempt), msg));
      ++served;
    }
    if (std::chrono::steady_clock::now() - last_beat >= cfg_.heartbeat) {
      to_all(json{{"type", "heartbeat"}});
      last_beat = std::chrono::steady_clock::now();
    }
  }
  to_all(json{{"type", "bye"}});
  return served;
}

json remote_worker::answer(const std::string& task_id, const std::string& operation, const std::string& run_id,
                           int attempt, const json& task) {
  auto it = ops_.find(operation);
  op_request req;
  req.operation = operation;
  req.run_id = run_id;
  req.attempt = attempt;
  req.input = share(task.contains("input") ? task["input"] : json());
  if (auto t = protocol::string_field(task, "traceparent", false); t) req.traceparent = std::move(*t);
  expected<json> out = it == ops_.end() ? expected<json>(make_error(codes::unknown_operation, "not served here"))
                                        : [&]() -> expected<json> {
    try {
      return it->second.fn(req);
    } catch (const std::exception& e) {
      return make_error(codes::handler_error, e.what());
    }
  }();
  if (out) return json{{"type", "result"}, {"taskId", task_id}, {"output", std::move(*out)}};
  return json{{"type", "error"}, {"taskId", task_id}, {"error", {{"code", out.error().code}, {"message", out.error().message}}}};
}

}  // namespace coworker

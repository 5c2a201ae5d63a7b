// remote_worker: a DEALER that says hello, answers tasks and heartbeats.
#include "coworker/worker.hpp"

#include <zmq.hpp>

#include "coworker/security.hpp"

namespace coworker {

void remote_worker::serve(std::string name, sync_handler fn, json input_schema) {
  ops_[std::move(name)] = entry{std::move(fn), std::move(input_schema)};
}

expected<std::size_t> remote_worker::run() {
  zmq::context_t ctx;
  zmq::socket_t sock(ctx, zmq::socket_type::dealer);
  sock.set(zmq::sockopt::linger, 0);
  if (!cfg_.curve_server_key.empty() || !cfg_.curve_secret_key.empty()) {
    auto pub = curve_public_key(cfg_.curve_secret_key);
    if (!pub) return make_error(codes::invalid_input, "worker CURVE secret key: " + pub.error_value().message);
    if (!is_curve_key(cfg_.curve_server_key))
      return make_error(codes::invalid_input, "worker CURVE server key: not a CURVE key");
    sock.set(zmq::sockopt::curve_serverkey, cfg_.curve_server_key);
    sock.set(zmq::sockopt::curve_publickey, *pub);
    sock.set(zmq::sockopt::curve_secretkey, cfg_.curve_secret_key);
  }
  sock.connect(cfg_.endpoint);
  json ops = json::array();
  for (const auto& [name, e] : ops_) ops.push_back(json{{"name", name}, {"inputSchema", e.schema}});
  auto send = [&](const json& m) { sock.send(zmq::buffer(dump(m)), zmq::send_flags::none); };
  send(json{{"type", "hello"}, {"operations", ops}, {"capacity", 1}});
  std::size_t served = 0;
  auto last_beat = std::chrono::steady_clock::now();
  while (!stop_) {
    zmq::pollitem_t item{sock.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    if (item.revents & ZMQ_POLLIN) {
      zmq::message_t m;
      (void)sock.recv(m);
      auto msg = json::parse(m.to_string_view(), nullptr, false);
      if (msg.is_discarded() || !msg.is_object()) continue;
      auto type = msg.value("type", std::string());
      if (type == "error") return make_error(msg["error"].value("code", std::string("error")),
                                             msg["error"].value("message", std::string()));
      if (type != "task") continue;
      auto it = ops_.find(msg.value("operation", std::string()));
      op_request req;
      req.operation = msg.value("operation", std::string());
      req.run_id = msg.value("runId", std::string());
      req.attempt = msg.value("attempt", 1);
      req.input = share(msg.contains("input") ? msg["input"] : json());
      expected<json> out = it == ops_.end()
                                ? expected<json>(make_error(codes::unknown_operation, "not served here"))
                                : [&]() -> expected<json> {
        try {
          return it->second.fn(req);
        } catch (const std::exception& e) {
          return make_error(codes::handler_error, e.what());
        }
      }();
      if (out) {
        send(json{{"type", "result"}, {"taskId", msg["taskId"]}, {"output", std::move(*out)}});
      } else {
        send(json{{"type", "error"}, {"taskId", msg["taskId"]},
                  {"error", {{"code", out.error_value().code}, {"message", out.error_value().message}}}});
      }
      ++served;
    }
    if (std::chrono::steady_clock::now() - last_beat >= cfg_.heartbeat) {
      send(json{{"type", "heartbeat"}});
      last_beat = std::chrono::steady_clock::now();
    }
  }
  send(json{{"type", "bye"}});
  return served;
}

}  // namespace coworker

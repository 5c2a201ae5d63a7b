// What the worker-frame fuzz target checks (shared with its replay test): a real worker_broker on
// an in-memory engine, its ROUTER bound in process; the input is sent by a DEALER as one message
// (its frames split at each "\0\0") either from a registered worker or, when the first byte is odd,
// from a fresh one. The broker must answer every message it cannot use with an `error` whose code
// is listed (docs/errors.md), a hello with a `welcome`, anything else with nothing; it must keep
// serving, and its operations must be exactly what its workers said in their last hello (a fresh
// worker says bye after its input).
#pragma once

#include <cerrno>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "edge_checks.hpp"
#include "request_checks.hpp"
#include "worker_broker.hpp"

namespace coworker::fuzz {

class worker_harness {
 public:
  worker_harness()
      : eng_(request_engine_config()), broker_(eng_, ctx_, [] {}, std::chrono::hours(1)) {
    (void)broker_.bind("inproc://fuzz-workers");
    registered_ = connect();
    hello(*registered_);
  }
  ~worker_harness() { broker_.close(); }

  std::vector<std::string> handle(std::string_view data) {
    std::vector<std::string> out;
    const bool fresh = !data.empty() && (static_cast<unsigned char>(data[0]) & 1);
    if (!data.empty()) data.remove_prefix(1);
    std::vector<std::string> frames;
    for (std::size_t at = 0;;) {
      auto cut = data.find(std::string_view("\0\0", 2), at);
      frames.emplace_back(data.substr(at, cut == std::string_view::npos ? std::string_view::npos : cut - at));
      if (cut == std::string_view::npos) break;
      at = cut + 2;
    }
    std::unique_ptr<zmq::socket_t> once;
    zmq::socket_t& s = fresh ? *(once = connect()) : *registered_;
    for (std::size_t i = 0; i < frames.size(); ++i)
      s.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    pump();
    for (auto& reply : replies(s)) check_reply(reply, out);
    if (once) {  // a fresh worker leaves: whatever it registered goes with it
      once->send(zmq::buffer(std::string_view(R"({"type":"bye"})")), zmq::send_flags::none);
      pump();
    }
    // The registered worker says hello again, as the state it leaves must not matter to the next input.
    hello(*registered_);
    auto listed = remote_operations();
    if (listed != std::set<std::string>{"fz_op"})
      out.push_back("after the registered worker's hello [fz_op] the remote operations are " + json(listed).dump());
    return out;
  }

  engine& eng() { return eng_; }

 private:
  std::unique_ptr<zmq::socket_t> connect() {
    auto s = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
    s->set(zmq::sockopt::linger, 0);
    s->connect("inproc://fuzz-workers");
    return s;
  }

  void hello(zmq::socket_t& s) {
    s.send(zmq::buffer(std::string_view(R"({"type":"hello","operations":["fz_op"],"capacity":2})")), zmq::send_flags::none);
    pump();
    (void)replies(s);
  }

  /// Lets the broker handle what is waiting (in process, a message is there as soon as it is
  /// sent; the short wait only covers the pipe's wake-up).
  void pump() {
    zmq::pollitem_t item{broker_.socket().handle(), 0, ZMQ_POLLIN, 0};
    while (true) {
      int ready = 0;
      try {
        ready = zmq::poll(&item, 1, std::chrono::milliseconds(2));
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;  // libFuzzer's timer signal
        throw;
      }
      if (ready <= 0) break;
      broker_.on_message();
      broker_.tick();
    }
    broker_.tick();
  }

  static std::vector<std::string> replies(zmq::socket_t& s) {
    std::vector<std::string> out;
    zmq::message_t m;
    while (s.recv(m, zmq::recv_flags::dontwait)) out.push_back(m.to_string());
    return out;
  }

  std::set<std::string> remote_operations() const {
    std::set<std::string> out;
    for (const auto& op : eng_.operations())
      if (op->remote) out.insert(op->name);
    return out;
  }

  static void check_reply(const std::string& text, std::vector<std::string>& out) {
    auto msg = json::parse(text, nullptr, false);
    if (msg.is_discarded() || !msg.is_object() || !msg.contains("type") || !msg["type"].is_string()) {
      out.push_back("a broker message that is not a typed JSON object: " + text.substr(0, 300));
      return;
    }
    const auto& type = msg["type"].get_ref<const std::string&>();
    if (type == "welcome") {
      if (!msg.contains("operations") || !msg["operations"].is_array()) out.push_back("a welcome without operations");
      return;
    }
    if (type != "error") {
      out.push_back("an unexpected broker message: " + text.substr(0, 300));
      return;
    }
    check_error_object(msg.contains("error") ? msg["error"] : json(), "worker", out);
  }

  engine eng_;
  zmq::context_t ctx_{0};
  worker_broker broker_;
  std::unique_ptr<zmq::socket_t> registered_;
};

}  // namespace coworker::fuzz

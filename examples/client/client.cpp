// This example submits a chain to `coworker serve` over ZeroMQ and waits for its record tree.
//   example_client [tcp://127.0.0.1:5570] < chain.json
#include <iostream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

int main(int argc, char** argv) {
  std::string endpoint = argc > 1 ? argv[1] : "tcp://127.0.0.1:5570";
  std::string chain{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  nlohmann::json request{{"type", "run"}, {"chain", nlohmann::json::parse(chain)}, {"wait", true}};

  zmq::context_t ctx;
  zmq::socket_t sock(ctx, zmq::socket_type::dealer);
  sock.set(zmq::sockopt::linger, 0);
  sock.connect(endpoint);
  sock.send(zmq::message_t(), zmq::send_flags::sndmore);  // the empty delimiter, as REQ sends it
  sock.send(zmq::buffer(request.dump()), zmq::send_flags::none);

  zmq::pollitem_t item{sock.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, std::chrono::seconds(30)) == 0) {
    std::cerr << "no reply from " << endpoint << "\n";
    return 2;
  }
  zmq::message_t delimiter, reply;
  (void)sock.recv(delimiter);
  (void)sock.recv(reply);
  auto r = nlohmann::json::parse(reply.to_string_view());
  if (!r["ok"].get<bool>()) {
    std::cerr << r["error"]["code"] << ": " << r["error"]["message"] << "\n";
    return 2;
  }
  std::cout << r["runId"].get<std::string>() << " " << r["status"].get<std::string>() << "\n";
  return r["status"] == "completed" ? 0 : 1;
}

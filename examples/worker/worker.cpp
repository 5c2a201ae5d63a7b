// This example serves the operation `shout` to a `coworker serve` daemon from a C++ program.
//   example_worker [tcp://127.0.0.1:5572 [tcp://…:5582 …]]   (several: every node of a cluster)
// Against a daemon that requires CURVE (docs/security.md), set COWORKER_CURVE_SERVER_KEY (the daemon's
// public key or .pub file) and COWORKER_CURVE_KEY (this worker's secret key file).
#include <csignal>
#include <cstdlib>
#include <iostream>

#include <coworker/security.hpp>
#include <coworker/worker.hpp>

static coworker::remote_worker* current = nullptr;

int main(int argc, char** argv) {
  coworker::worker_config cfg;
  for (int i = 1; i < argc; ++i) cfg.endpoints.push_back(argv[i]);
  const char* server_key = std::getenv("COWORKER_CURVE_SERVER_KEY");
  const char* key_file = std::getenv("COWORKER_CURVE_KEY");
  if (server_key && key_file) {
    auto server = coworker::read_curve_key(server_key);
    auto secret = coworker::read_curve_key_file(key_file);
    if (!server || !secret) {
      std::cerr << (server ? secret.error().message : server.error().message) << "\n";
      return 2;
    }
    cfg.curve_server_key = *server;
    cfg.curve_secret_key = *secret;
  }
  coworker::remote_worker w(cfg);
  w.serve("shout", [](const coworker::op_request& r) -> coworker::expected<coworker::json> {
    if (!r.in().is_string()) return coworker::make_error("invalid_input", "shout needs a string");
    std::string s = r.in().get<std::string>();
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return coworker::json{{"text", s + "!"}};
  });
  current = &w;
  std::signal(SIGTERM, [](int) { current->stop(); });
  auto served = w.run();
  if (!served) {
    std::cerr << served.error().code << ": " << served.error().message << "\n";
    return 1;
  }
  std::cout << "served " << *served << " tasks\n";
  return 0;
}

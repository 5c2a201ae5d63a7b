// This example serves the operation `shout` to a `coworker serve` daemon from a C++ program.
//   example_worker [tcp://127.0.0.1:5572]
#include <csignal>
#include <iostream>

#include <coworker/worker.hpp>

static coworker::remote_worker* current = nullptr;

int main(int argc, char** argv) {
  coworker::worker_config cfg;
  if (argc > 1) cfg.endpoint = argv[1];
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
    std::cerr << served.error_value().code << ": " << served.error_value().message << "\n";
    return 1;
  }
  std::cout << "served " << *served << " tasks\n";
  return 0;
}

// This example embeds coworker: it registers its own operation, runs a chain and prints events.
#include <iostream>

#include <coworker/coworker.hpp>  // the only include you need

int main() {
  coworker::engine eng;
  auto greet = [](const coworker::op_request& r) -> coworker::expected<coworker::json> {
    return coworker::json{{"text", "hello, " + r.in().value("name", std::string("world"))}};
  };
  if (!eng.register_operation("greet", greet)) return 1;
  auto sub = eng.subscribe([](const coworker::event& e) {
    std::cout << e.seq << " " << coworker::to_string(e.kind) << " " << e.run->operation << "\n";
  });
  auto tree = eng.run(coworker::json::parse(R"({"operation": "run", "input": {"name": "coworker"},
      "children": [{"id": "hi", "operation": "greet"},
                   {"id": "say", "operation": "log", "input": "{{hi.output.text}}"}]})"));
  sub.reset();  // all events printed
  if (!tree) {
    std::cerr << tree.error().code << ": " << tree.error().message << "\n";
    return 1;
  }
  std::cout << "status: " << (*tree)["status"] << ", said: " << (*tree)["output"]["last"] << "\n";
  return (*tree)["status"] == "completed" ? 0 : 1;
}

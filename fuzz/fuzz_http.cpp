// libFuzzer target: one HTTP request to a real http_gateway on loopback (http_checks.hpp, shared
// with tests/e2e/fuzz_replay_test.cpp).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_main.hpp"
#include "http_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto* harness = new coworker::fuzz::http_harness();
  coworker::fuzz::report("fuzz_http", harness->handle(std::string_view(reinterpret_cast<const char*>(data), size)));
  return 0;
}

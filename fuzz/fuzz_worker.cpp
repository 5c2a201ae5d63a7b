// libFuzzer target: one worker message into a real worker_broker (worker_checks.hpp, shared with
// tests/e2e/fuzz_replay_test.cpp).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_main.hpp"
#include "worker_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One broker for the session, never destroyed (as fuzz_request's engine).
  static auto* harness = new coworker::fuzz::worker_harness();
  coworker::fuzz::report("fuzz_worker", harness->handle(std::string_view(reinterpret_cast<const char*>(data), size)));
  return 0;
}

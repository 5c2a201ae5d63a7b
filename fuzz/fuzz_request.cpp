// libFuzzer target: one request frame through protocol::handle_request on a live in-memory engine,
// as the service hands it over; runs it starts are waited for, then cancelled (request_checks.hpp,
// shared with tests/engine/fuzz_replay_test.cpp).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_main.hpp"
#include "request_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One engine for the whole session, never destroyed: starting an actor system per input would
  // be slow, and it stays reachable, so LeakSanitizer does not count it.
  static auto* harness = new coworker::fuzz::request_harness();
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  coworker::fuzz::report("fuzz_request", harness->handle(frame));
  return 0;
}

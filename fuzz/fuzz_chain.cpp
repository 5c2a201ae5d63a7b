// libFuzzer target: chain text, validated with the default and with tight limits (chain/compile.hpp).
// The properties checked are in lang_checks.hpp, shared with tests/unit/lang/fuzz_replay_test.cpp.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_main.hpp"
#include "lang_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  coworker::fuzz::report("fuzz_chain", coworker::fuzz::check_chain(input));
  return 0;
}

// libFuzzer target: the text of an `if`, compiled and evaluated (expr/condition.hpp).
// The properties checked are in lang_checks.hpp, shared with tests/unit/lang/fuzz_replay_test.cpp.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_main.hpp"
#include "lang_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  coworker::fuzz::report("fuzz_condition", coworker::fuzz::check_condition(input));
  return 0;
}

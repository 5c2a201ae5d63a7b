// libFuzzer target: the text of a config file to protocol::parse_config (config_checks.hpp).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config_checks.hpp"
#include "fuzz_main.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  coworker::fuzz::report("fuzz_config", coworker::fuzz::check_config(std::string_view(reinterpret_cast<const char*>(data), size)));
  return 0;
}

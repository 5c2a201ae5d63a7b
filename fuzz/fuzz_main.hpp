// The shared end of every fuzz target: a problem a check found is a finding, reported and then
// turned into a crash so libFuzzer keeps the input (scripts/fuzz.sh, docs/testing.md).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace coworker::fuzz {

inline void report(const char* target, const std::vector<std::string>& found) {
  if (found.empty()) return;
  for (const auto& p : found) std::fprintf(stderr, "%s: %s\n", target, p.c_str());
  std::abort();
}

}  // namespace coworker::fuzz

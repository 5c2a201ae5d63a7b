// A directory of its own under /tmp for a test's files (a SQLite store, its lock), removed after.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace coworker::test {

struct temp_dir {
  std::filesystem::path path;
  explicit temp_dir(const std::string& what = "test") {
    std::string tmpl = "/tmp/coworker-" + what + "-XXXXXX";
    path = mkdtemp(tmpl.data());
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
};

}  // namespace coworker::test

// A directory of its own under $TMPDIR (/tmp) for a test's files (a SQLite store, its lock), removed
// after, also when the test fails: what a failure needs is in the test's messages.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>

namespace coworker::test {

struct temp_dir {
  std::filesystem::path path;
  explicit temp_dir(const std::string& what = "test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / ("coworker-" + what + "-XXXXXX")).string();
    if (!mkdtemp(tmpl.data())) throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ignored;  // a destructor must not throw (a test that failed may leave a file it cannot delete)
    std::filesystem::remove_all(path, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
};

}  // namespace coworker::test

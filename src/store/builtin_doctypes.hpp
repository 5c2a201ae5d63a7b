// The doctype schemas built into coworker (config/doctypes/*.json, embedded at build time by
// cmake/embed_doctypes.cmake): nothing is read from the source tree at run time.
#pragma once

#include <span>
#include <string_view>

namespace coworker::store {

struct builtin_doctype {
  std::string_view file;  ///< e.g. "Task.json"
  std::string_view text;  ///< the schema, as in config/doctypes
};

std::span<const builtin_doctype> builtin_doctypes();

}  // namespace coworker::store

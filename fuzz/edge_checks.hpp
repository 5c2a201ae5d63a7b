// What every edge answers for a message it cannot use, shared by the worker, HTTP and config fuzz
// targets and their replay tests: an error with a code from the closed list (docs/errors.md), a
// message, and a path that is a JSON Pointer or absent.
#pragma once

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/json.hpp"

namespace coworker::fuzz {

inline bool listed_code(const std::string& code) {
  return std::any_of(std::begin(codes::all), std::end(codes::all), [&](const char* c) { return code == c; });
}

/// Checks an `{"code", "message", "path"?}` object; `internal` means an exception escaped.
inline void check_error_object(const json& e, const std::string& where, std::vector<std::string>& out) {
  if (!e.is_object() || !e.contains("code") || !e["code"].is_string() || !e.contains("message") ||
      !e["message"].is_string() || e["message"].get_ref<const std::string&>().empty()) {
    out.push_back(where + ": an error without code and message: " + dump(e).substr(0, 300));
    return;
  }
  const auto& code = e["code"].get_ref<const std::string&>();
  if (!listed_code(code)) out.push_back(where + ": a code not in docs/errors.md: " + code);
  if (code == codes::internal) out.push_back(where + ": internal (an exception escaped): " + dump(e).substr(0, 300));
  if (e.contains("path") && (!e["path"].is_string() || (!e["path"].get_ref<const std::string&>().empty() &&
                                                         e["path"].get_ref<const std::string&>()[0] != '/')))
    out.push_back(where + ": a path that is not a JSON Pointer: " + dump(e).substr(0, 300));
}

inline void check_error(const coworker::error& e, const std::string& where, std::vector<std::string>& out) {
  json j{{"code", e.code}, {"message", e.message}};
  if (!e.path.empty()) j["path"] = e.path;
  check_error_object(j, where, out);
}

}  // namespace coworker::fuzz

// The JSON type coworker passes between actors, and the shared immutable handle to it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace coworker {

using json = nlohmann::json;

/// An immutable JSON value shared between runs without copying. A null pointer means JSON null.
using value_ptr = std::shared_ptr<const json>;

/// Wraps a value into a shared handle (moves it).
inline value_ptr share(json v) { return std::make_shared<const json>(std::move(v)); }

/// The value behind a handle, or a static null when the handle is empty.
inline const json& deref(const value_ptr& p) {
  static const json null_value;
  return p ? *p : null_value;
}

/// Appends `v` as compact JSON text: the same bytes as v.dump() with invalid UTF-8 replaced, written
/// faster (src/core/json_text.cpp): strings of printable ASCII are copied as they are.
void append_text(std::string& out, const json& v);
/// Appends the JSON string of `s` (quoted and escaped as dump() writes it).
void append_string_text(std::string& out, std::string_view s);

/// Serializes for the edges (sockets, store, CLI): never throws on invalid UTF-8.
inline std::string dump(const json& v, int indent = -1) {
  if (indent >= 0) return v.dump(indent, ' ', false, json::error_handler_t::replace);
  std::string out;
  append_text(out, v);
  return out;
}

}  // namespace coworker

// Compact JSON text, the bytes nlohmann's dump(-1, ' ', false, replace) writes, without its
// per-character UTF-8 state machine for the strings that need none: ids, keys, names and most text
// values are printable ASCII, copied as they are. Anything else (escapes, other UTF-8, floating
// point numbers, binary) is written by nlohmann itself, so the output never differs
// (tests/unit/lang/json_text_test.cpp compares the two).
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "coworker/json.hpp"

namespace coworker {
namespace {

bool plain(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  return true;
}

void add_string(std::string& out, std::string_view s) {
  if (plain(s)) {
    out += '"';
    out += s;
    out += '"';
    return;
  }
  out += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

template <typename N>
void add_number(std::string& out, N n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

}  // namespace

void append_string_text(std::string& out, std::string_view s) { add_string(out, s); }

void append_text(std::string& out, const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      out += "null";
      return;
    case json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case json::value_t::number_integer:
      add_number(out, v.get<std::int64_t>());
      return;
    case json::value_t::number_unsigned:
      add_number(out, v.get<std::uint64_t>());
      return;
    case json::value_t::string:
      add_string(out, v.get_ref<const std::string&>());
      return;
    case json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, member] : v.get_ref<const json::object_t&>()) {
        if (!first) out += ',';
        first = false;
        add_string(out, k);
        out += ':';
        append_text(out, member);
      }
      out += '}';
      return;
    }
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_ref<const json::array_t&>()) {
        if (!first) out += ',';
        first = false;
        append_text(out, e);
      }
      out += ']';
      return;
    }
    default:  // floating point numbers, binary, discarded
      out += v.dump(-1, ' ', false, json::error_handler_t::replace);
      return;
  }
}

}  // namespace coworker

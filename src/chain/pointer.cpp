#include "chain/pointer.hpp"

#include <cstdio>

namespace coworker::chain {

std::string escape_token(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string child_pointer(const std::string& base, std::string_view token) {
  return base + "/" + escape_token(token);
}

std::string child_pointer(const std::string& base, std::size_t index) {
  return base + "/" + std::to_string(index);
}

namespace {

std::string_view next_token(std::string_view& rest) {
  // `rest` starts with '/', or is empty.
  rest.remove_prefix(1);
  auto slash = rest.find('/');
  auto tok = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  return tok;
}

bool is_index(std::string_view t) {
  if (t.empty() || t.size() > 18) return false;
  for (char c : t)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

bool pointer_less(std::string_view a, std::string_view b) {
  while (!a.empty() && !b.empty()) {
    auto ta = next_token(a);
    auto tb = next_token(b);
    if (ta == tb) continue;
    if (is_index(ta) && is_index(tb)) return std::stoull(std::string(ta)) < std::stoull(std::string(tb));
    return ta < tb;
  }
  return a.empty() && !b.empty();
}

std::string printable(std::string_view text, std::size_t max_len) {
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= max_len) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace coworker::chain

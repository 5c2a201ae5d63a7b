// Trace context (see trace_context.hpp; docs/tracing.md).
#include "core/trace_context.hpp"

#include <cstdint>

namespace coworker {

namespace {

bool lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool all_zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

/// FNV-1a over the text, then splitmix64's finalizer: well spread 64 bits, the same everywhere.
std::uint64_t hash64(std::string_view text, std::uint64_t salt) {
  std::uint64_t h = 1469598103934665603ull ^ salt;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h ? h : 1;
}

void append_hex(std::string& out, std::uint64_t v) {
  static const char digits[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(digits[(v >> shift) & 0xf]);
}

error bad(const std::string& why) {
  return make_error(codes::invalid_input, "traceparent: " + why + " (W3C: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>)",
                    "/traceparent");
}

}  // namespace

expected<trace_context> parse_traceparent(std::string_view t) {
  if (t.size() < 55) return bad("too short");
  if (t.size() > 512) return bad("too long");
  if (t[2] != '-' || t[35] != '-' || t[52] != '-') return bad("fields must be separated by '-'");
  auto version = t.substr(0, 2), trace = t.substr(3, 32), parent = t.substr(36, 16), flags = t.substr(53, 2);
  if (!lower_hex(version) || version == "ff") return bad("the version must be 2 lower-case hex digits, not ff");
  if (version == "00" && t.size() != 55) return bad("version 00 has exactly 55 characters");
  if (version != "00" && t.size() > 55 && t[55] != '-') return bad("fields must be separated by '-'");
  if (!lower_hex(trace) || all_zero(trace)) return bad("the trace id must be 32 lower-case hex digits, not all zero");
  if (!lower_hex(parent) || all_zero(parent)) return bad("the parent id must be 16 lower-case hex digits, not all zero");
  if (!lower_hex(flags)) return bad("the flags must be 2 lower-case hex digits");
  const int f = std::stoi(std::string(flags), nullptr, 16);
  return trace_context{std::string(trace), std::string(parent), (f & 1) != 0};
}

std::string format_traceparent(const trace_context& t, std::string_view span_id) {
  std::string out;
  out.reserve(55);
  out += "00-";
  out += t.trace_id;
  out += '-';
  out += span_id;
  out += t.sampled ? "-01" : "-00";
  return out;
}

std::string span_id_of(std::string_view run_id) {
  std::string out;
  out.reserve(16);
  append_hex(out, hash64(run_id, 0));
  return out;
}

std::string trace_id_of(std::string_view chain_id) {
  std::string out;
  out.reserve(32);
  append_hex(out, hash64(chain_id, 0x7472616365ull));
  append_hex(out, hash64(chain_id, 0x636861696eull));
  return out;
}

}  // namespace coworker

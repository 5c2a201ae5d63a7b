// Typed field readers (see fields.hpp).
#include "protocol/fields.hpp"

#include <charconv>

#include "chain/fields.hpp"
#include "chain/pointer.hpp"

namespace coworker::protocol {

namespace {

const json* find_field(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string quoted(std::string_view key) { return "\"" + std::string(key) + "\""; }

}  // namespace

expected<std::string> string_field(const json& obj, std::string_view key, bool required, const std::string& base) {
  const json* v = find_field(obj, key);
  if (!v) {
    if (required) return make_error(codes::invalid_input, quoted(key) + " is required", chain::child_pointer(base, key));
    return std::string();
  }
  if (!v->is_string()) return make_error(codes::invalid_input, quoted(key) + " must be a string", chain::child_pointer(base, key));
  return v->get_ref<const std::string&>();
}

expected<bool> bool_field(const json& obj, std::string_view key, bool fallback, const std::string& base) {
  const json* v = find_field(obj, key);
  if (!v) return fallback;
  if (!v->is_boolean()) return make_error(codes::invalid_input, quoted(key) + " must be true or false", chain::child_pointer(base, key));
  return v->get<bool>();
}

expected<std::int64_t> int_field(const json& obj, std::string_view key, std::int64_t fallback, std::int64_t min,
                                 std::int64_t max, const std::string& base) {
  const json* v = find_field(obj, key);
  if (!v) return fallback;
  const auto n = chain::detail::int_value(*v);  // no float, no bool, fits int64
  if (!n || *n < min || *n > max)
    return make_error(codes::invalid_input,
                      quoted(key) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max),
                      chain::child_pointer(base, key));
  return *n;
}

expected<const json*> object_field(const json& obj, std::string_view key, const std::string& base) {
  const json* v = find_field(obj, key);
  if (!v) return static_cast<const json*>(nullptr);
  if (!v->is_object()) return make_error(codes::invalid_input, quoted(key) + " must be an object", chain::child_pointer(base, key));
  return v;
}

expected<std::int64_t> parse_int_text(std::string_view text, std::int64_t min, std::int64_t max, const std::string& where) {
  std::int64_t n = 0;
  auto bad = [&] {
    return make_error(codes::invalid_input,
                      where + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                          " (got '" + chain::printable(text, 40) + "')");
  };
  if (text.empty() || text.size() > 19) return bad();
  for (char c : text)
    if (c < '0' || c > '9') return bad();
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < min || n > max) return bad();
  return n;
}

expected<bool> parse_bool_text(std::string_view text, const std::string& where) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return make_error(codes::invalid_input, where + " must be true, false, 1 or 0 (got '" + chain::printable(text, 40) + "')");
}

}  // namespace coworker::protocol

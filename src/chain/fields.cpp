#include "chain/fields.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <utility>

#include "chain/pointer.hpp"

namespace coworker::chain::detail {

namespace {

const std::vector<std::string_view> k_common = {"id", "if", "onError", "options", "input"};
const std::vector<std::string_view> k_option_keys = {"keepAlive", "timeoutMs", "retry", "failFast", "concurrency"};
const std::vector<std::string_view> k_retry_keys = {"max", "delayMs", "backoff", "maxDelayMs", "jitter", "retryOn"};

bool in(const std::vector<std::string_view>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

error type_error(const std::string& pointer, std::string_view what, const json& got) {
  return make_error(codes::invalid_chain, std::string(what) + ", got " + type_phrase(got), pointer);
}

void parse_retry(const json& v, const std::string& ptr, retry_policy& r, std::vector<error>& errors) {
  if (!v.is_object()) {
    errors.push_back(type_error(ptr, "'retry' must be an object such as {\"max\": 3, \"delayMs\": 200}", v));
    return;
  }
  if (!v.contains("max"))
    errors.push_back(make_error(codes::invalid_chain, "'retry' needs 'max', the number of extra attempts", ptr));
  for (const auto& [key, val] : v.items()) {
    auto p = child_pointer(ptr, key);
    if (key == "max") {
      auto n = int_value(val);
      if (!n || *n < 0 || *n > 100)
        errors.push_back(type_error(p, "'max' must be an integer from 0 to 100", val));
      else
        r.max = static_cast<int>(*n);
    } else if (key == "delayMs" || key == "maxDelayMs" || key == "backoff") {
      auto d = number_value(val);
      double min = key == "backoff" ? 1.0 : 0.0;
      if (!d || *d < min) {
        errors.push_back(type_error(p, "'" + key + "' must be a number >= " + (key == "backoff" ? "1" : "0"), val));
      } else if (key == "delayMs") {
        r.delay_ms = *d;
      } else if (key == "maxDelayMs") {
        r.max_delay_ms = *d;
      } else {
        r.backoff = *d;
      }
    } else if (key == "jitter") {
      if (!val.is_boolean())
        errors.push_back(type_error(p, "'jitter' must be true or false", val));
      else
        r.jitter = val.get<bool>();
    } else if (key == "retryOn") {
      if (!val.is_array()) {
        errors.push_back(type_error(p, "'retryOn' must be an array of error codes", val));
        continue;
      }
      for (std::size_t i = 0; i < val.size(); ++i) {
        if (!val[i].is_string() || val[i].get_ref<const std::string&>().empty())
          errors.push_back(type_error(child_pointer(p, i), "an error code in 'retryOn' must be a non-empty string", val[i]));
        else
          r.retry_on.push_back(val[i].get<std::string>());
      }
    } else {
      errors.push_back(unknown_field(key, p, k_retry_keys, "retry"));
    }
  }
}

}  // namespace

const std::vector<std::string_view>& all_step_fields() {
  static const std::vector<std::string_view> all = {"id",       "operation",  "doctype", "input", "if",
                                                    "onError",  "role",       "options", "children",
                                                    "parallel", "operations", "forEach", "as",    "do",
                                                    "chain"};
  return all;
}

bool field_allowed(step_kind kind, std::string_view f) {
  if (in(k_common, f)) return true;
  switch (kind) {
    case step_kind::operation: return f == "operation" || f == "doctype" || f == "role";
    case step_kind::chain: return f == "operation" || f == "children" || f == "chain";
    case step_kind::parallel: return f == "parallel" || f == "operations";
    case step_kind::for_each: return f == "forEach" || f == "as" || f == "do";
  }
  return false;
}

const char* form_name(step_kind kind) {
  switch (kind) {
    case step_kind::operation: return "an operation step";
    case step_kind::chain: return "a chain";
    case step_kind::parallel: return "a parallel group";
    case step_kind::for_each: return "a forEach";
  }
  return "a step";
}

std::optional<std::string_view> closest(std::string_view name, const std::vector<std::string_view>& candidates) {
  auto low = lower(name);
  std::optional<std::string_view> best;
  std::size_t best_d = 3;
  for (auto c : candidates) {
    if (lower(c) == low) return c;
    // Cheap bound first: lengths too far apart cannot be within distance 2.
    if (c.size() + 2 < name.size() || name.size() + 2 < c.size()) continue;
    auto d = edit_distance(low, lower(c));
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

error unknown_field(std::string_view name, const std::string& pointer, const std::vector<std::string_view>& candidates,
                    std::string_view where) {
  std::string msg = "unknown field '" + printable(name, 60) + "' in " + std::string(where);
  if (name.size() < 64)
    if (auto hint = closest(name, candidates)) msg += " (did you mean '" + std::string(*hint) + "'?)";
  return make_error(codes::unknown_field, std::move(msg), pointer);
}

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  auto first = static_cast<unsigned char>(s[0]);
  if (!(std::isalpha(first) || first == '_') || first >= 0x80) return false;
  for (unsigned char c : s)
    if (c >= 0x80 || !(std::isalnum(c) || c == '_' || c == '-')) return false;
  return true;
}

bool reserved_name(std::string_view s) { return s == "prev" || s == "input" || s == "error"; }

std::optional<std::int64_t> int_value(const json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  return std::nullopt;
}

std::optional<double> number_value(const json& v) {
  if (!v.is_number()) return std::nullopt;
  double d = v.get<double>();
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

void parse_options(const json& v, const std::string& ptr, step_kind kind, step_options& out,
                   std::vector<error>& errors) {
  if (!v.is_object()) {
    errors.push_back(type_error(ptr, "'options' must be an object", v));
    return;
  }
  for (const auto& [key, val] : v.items()) {
    auto p = child_pointer(ptr, key);
    if (key == "keepAlive") {
      if (!val.is_boolean())
        errors.push_back(type_error(p, "'keepAlive' must be true or false", val));
      else
        out.keep_alive = val.get<bool>();
    } else if (key == "timeoutMs") {
      auto n = int_value(val);
      if (!n || *n <= 0 || *n > max_duration_ms)
        errors.push_back(type_error(p, "'timeoutMs' must be a positive integer (milliseconds) up to " +
                                           std::to_string(max_duration_ms) + " (365 days)", val));
      else
        out.timeout_ms = *n;
    } else if (key == "retry") {
      retry_policy r;
      auto before = errors.size();
      parse_retry(val, p, r, errors);
      if (errors.size() == before) out.retry = std::move(r);
    } else if (key == "failFast") {
      if (kind != step_kind::parallel)
        errors.push_back(make_error(codes::invalid_chain, "'failFast' applies only to parallel groups", p));
      else if (!val.is_boolean())
        errors.push_back(type_error(p, "'failFast' must be true or false", val));
      else
        out.fail_fast = val.get<bool>();
    } else if (key == "concurrency") {
      auto n = int_value(val);
      if (kind != step_kind::for_each)
        errors.push_back(make_error(codes::invalid_chain, "'concurrency' applies only to forEach", p));
      else if (!n || *n <= 0)
        errors.push_back(type_error(p, "'concurrency' must be a positive integer", val));
      else
        out.concurrency = static_cast<std::size_t>(*n);
    } else {
      errors.push_back(unknown_field(key, p, k_option_keys, "options"));
    }
  }
}

int json_depth(const json& v, int cap) {
  if (!v.is_structured()) return 0;
  // Explicit stack of (value, depth): no recursion, whatever shape a program built.
  std::vector<std::pair<const json*, int>> stack{{&v, 1}};
  int deepest = 0;
  while (!stack.empty()) {
    auto [j, d] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, d);
    if (deepest > cap) return deepest;
    for (const auto& c : *j)
      if (c.is_structured()) stack.emplace_back(&c, d + 1);
  }
  return deepest;
}

std::string type_phrase(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_float:
      return "a number (" + coworker::dump(v) + ")";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return coworker::dump(v);
    default: return "a value of another type";
  }
}

}  // namespace coworker::chain::detail

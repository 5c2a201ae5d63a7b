// Errors as values: a code, a message and a JSON Pointer, and expected<T> holding a value or an error.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace coworker {

/// The error codes coworker itself produces. Handlers and workers may use codes of their own;
/// `error::code` is therefore a string, and these are its well-known values.
namespace codes {
inline constexpr const char* bad_json = "bad_json";
inline constexpr const char* too_large = "too_large";
inline constexpr const char* too_deep = "too_deep";
inline constexpr const char* invalid_chain = "invalid_chain";
inline constexpr const char* unknown_field = "unknown_field";
inline constexpr const char* duplicate_id = "duplicate_id";
inline constexpr const char* unknown_reference = "unknown_reference";
inline constexpr const char* unknown_operation = "unknown_operation";
inline constexpr const char* template_syntax = "template_syntax";
inline constexpr const char* condition_syntax = "condition_syntax";
inline constexpr const char* template_error = "template_error";
inline constexpr const char* condition_error = "condition_error";
inline constexpr const char* invalid_input = "invalid_input";
inline constexpr const char* invalid_document = "invalid_document";
inline constexpr const char* handler_error = "handler_error";
inline constexpr const char* timeout = "timeout";
inline constexpr const char* cancelled = "cancelled";
inline constexpr const char* not_found = "not_found";
inline constexpr const char* busy = "busy";
/// The durable store cannot write (disk full, I/O error): nothing new is accepted until it can.
inline constexpr const char* unavailable = "unavailable";
inline constexpr const char* unknown_type = "unknown_type";
inline constexpr const char* unauthorized = "unauthorized";
inline constexpr const char* no_destination = "no_destination";
inline constexpr const char* worker_lost = "worker_lost";
inline constexpr const char* store_error = "store_error";
inline constexpr const char* internal = "internal";
}  // namespace codes

/// What went wrong and where. `path` is a JSON Pointer into the offending document, or empty.
struct error {
  std::string code;
  std::string message;
  std::string path;

  friend bool operator==(const error&, const error&) = default;
};

inline error make_error(std::string code, std::string message, std::string path = {}) {
  return error{std::move(code), std::move(message), std::move(path)};
}

/// A value or an error, shaped like std::expected so it can become an alias later.
template <class T>
class [[nodiscard]] expected {
 public:
  expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  expected(error err) : v_(std::in_place_index<1>, std::move(err)) {}  // NOLINT(implicit)

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(v_); }
  const T& value() const& { assert(has_value()); return std::get<0>(v_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const error& error_value() const& { assert(!has_value()); return std::get<1>(v_); }
  error&& error_value() && { assert(!has_value()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, error> v_;
};

/// expected<void>: success or an error.
template <>
class [[nodiscard]] expected<void> {
 public:
  expected() = default;
  expected(error err) : err_(std::move(err)), ok_(false) {}  // NOLINT(implicit)
  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const error& error_value() const { assert(!ok_); return err_; }

 private:
  error err_;
  bool ok_ = true;
};

}  // namespace coworker

// Errors as values: a code, a message and a JSON Pointer, and expected<T> holding a value or an error.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace coworker {

/// The closed list of error codes coworker itself produces: the engine, the protocol, the worker
/// broker, the HTTP API, the built-in operations and the CLI. docs/errors.md explains each one (a
/// test fails when that page and `codes::all` disagree). Handlers and workers may use codes of
/// their own; `error::code` is therefore a string, and these are its well-known values.
namespace codes {
// A document or frame that cannot be used (docs/chain-language.md, docs/protocol.md).
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
inline constexpr const char* invalid_input = "invalid_input";
inline constexpr const char* unknown_type = "unknown_type";
/// An HTTP method an endpoint does not take (HTTP 405).
inline constexpr const char* method_not_allowed = "method_not_allowed";
/// A worker sent something other than `hello` before its first `hello`.
inline constexpr const char* not_registered = "not_registered";
// A step that fails while it runs.
inline constexpr const char* template_error = "template_error";
inline constexpr const char* condition_error = "condition_error";
inline constexpr const char* invalid_document = "invalid_document";
inline constexpr const char* handler_error = "handler_error";
inline constexpr const char* timeout = "timeout";
inline constexpr const char* cancelled = "cancelled";
inline constexpr const char* worker_lost = "worker_lost";
inline constexpr const char* no_destination = "no_destination";
/// The llm operations' endpoint cannot be reached or answered something else than asked.
inline constexpr const char* llm_error = "llm_error";
// The service's state.
inline constexpr const char* not_found = "not_found";
/// A signal for a run id that is not an await step waiting for one.
inline constexpr const char* not_waiting = "not_waiting";
/// A redrive of a chain that completed or still runs (only failed or cancelled chains are redriven).
inline constexpr const char* not_redrivable = "not_redrivable";
inline constexpr const char* busy = "busy";
/// The durable store cannot write (disk full, I/O error): nothing new is accepted until it can.
inline constexpr const char* unavailable = "unavailable";
inline constexpr const char* store_error = "store_error";
inline constexpr const char* unauthorized = "unauthorized";
inline constexpr const char* internal = "internal";
// Starting the daemon.
/// An endpoint cannot be bound (in use, no permission, a bad address).
inline constexpr const char* bind_failed = "bind_failed";
/// CURVE was asked for, but this libzmq has none.
inline constexpr const char* no_curve = "no_curve";
/// The security self-check found an endpoint open that should not be.
inline constexpr const char* insecure = "insecure";

/// Every code above, in that order.
inline constexpr const char* all[] = {
    bad_json,       too_large,        too_deep,        invalid_chain,  unknown_field, duplicate_id,
    unknown_reference, unknown_operation, template_syntax, condition_syntax, invalid_input, unknown_type,
    method_not_allowed, not_registered, template_error, condition_error, invalid_document, handler_error,
    timeout,        cancelled,        worker_lost,     no_destination, llm_error,     not_found,
    busy,           unavailable,      store_error,     unauthorized,   internal,      bind_failed,
    no_curve,       insecure,         not_waiting,     not_redrivable,
};
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
  expected(coworker::error err) : v_(std::in_place_index<1>, std::move(err)) {}  // NOLINT(implicit)

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(v_); }
  const T& value() const& { assert(has_value()); return std::get<0>(v_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const coworker::error& error() const& { assert(!has_value()); return std::get<1>(v_); }
  coworker::error&& error() && { assert(!has_value()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, coworker::error> v_;
};

/// expected<void>: success or an error.
template <>
class [[nodiscard]] expected<void> {
 public:
  expected() = default;
  expected(coworker::error err) : err_(std::move(err)), ok_(false) {}  // NOLINT(implicit)
  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  void value() const { assert(ok_); }
  const coworker::error& error() const { assert(!ok_); return err_; }

 private:
  coworker::error err_;
  bool ok_ = true;
};

}  // namespace coworker

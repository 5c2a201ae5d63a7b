// `log` writes its input to the engine log and passes it on; `message` records a conversation
// turn; `wait` passes its input on `ms` milliseconds after its attempt started, holding no thread.
#include "ops/engine_ops.hpp"

#include <algorithm>

#include "core/frame.hpp"
#include "coworker/run_record.hpp"

namespace coworker {

std::vector<operation> engine_operations(timer_service& timers, log_fn log) {
  std::vector<operation> ops;

  operation log_op;
  log_op.name = "log";
  log_op.description = "writes its input to the engine log; output: its input";
  log_op.input_schema = json{{"type", "any"}};
  log_op.sync = [log](const op_request& req) -> expected<json> {
    if (!log) return req.in();
    // A line of the log, not a copy of a large value (limits.valueBytes is 64 MiB).
    constexpr std::size_t most = 4096;
    const auto size = approx_size(req.in(), most);
    const auto what = size <= most ? dump(req.in()) : "a value of more than " + std::to_string(most) + " bytes";
    log("info", (req.step_id.empty() ? std::string("log") : req.step_id) + ": " + what);
    return req.in();
  };
  ops.push_back(std::move(log_op));

  operation message_op;
  message_op.name = "message";
  message_op.description = "a conversation message: {text} with the step's role; output: {role, text}";
  message_op.input_schema = json{{"type", "object"}, {"properties", {{"text", {{"type", "string"}}}}}};
  message_op.sync = [](const op_request& req) -> expected<json> {
    const auto& in = req.in();
    std::string text;
    if (in.is_string()) {
      text = in.get<std::string>();
    } else if (in.is_object() && in.contains("text") && in["text"].is_string()) {
      text = in["text"].get<std::string>();
    } else {
      return make_error(codes::invalid_input, "message needs {\"text\": \"...\"} or a string");
    }
    return json{{"role", req.role.empty() ? "user" : req.role}, {"text", std::move(text)}};
  };
  ops.push_back(std::move(message_op));

  operation wait_op;
  wait_op.name = "wait";
  wait_op.mode = handler_mode::async;
  wait_op.description = "waits `ms` milliseconds; output: its input";
  wait_op.input_schema = json{{"type", "object"}, {"properties", {{"ms", {{"type", "integer"}, {"minimum", 0}}}}}};
  wait_op.async = [&timers](const op_request& req, responder r) {
    const auto& in = req.in();
    auto ms = in.is_object() ? in.find("ms") : in.end();
    if (!in.is_object() || ms == in.end() || !ms->is_number() || ms->get<double>() < 0 ||
        ms->get<double>() > 86400000.0) {
      r.fail(make_error(codes::invalid_input, "wait needs {\"ms\": <milliseconds from 0 to 86400000>}"));
      return;
    }
    // It ends `ms` after its attempt started, which a restart keeps (docs/durability.md, "Timers"):
    // a wait of 10 s with 3 s left when the daemon stopped ends 3 s after it resumed.
    const auto total = static_cast<std::int64_t>(ms->get<double>());
    const auto left = req.started ? std::clamp<std::int64_t>(req.started + total - now_ms(), 0, total) : total;
    timers.after(std::chrono::milliseconds(left), [r, input = req.input] {
      if (!r.done()) r.ok(deref(input));
    });
  };
  ops.push_back(std::move(wait_op));
  return ops;
}

}  // namespace coworker

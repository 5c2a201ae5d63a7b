// `await`: a step that waits for a signal (docs/chain-language.md, "await"). It holds no thread:
// the signal board keeps its responder until a signal (signal_board.hpp), a timeout or a cancel.
#include "ops/engine_ops.hpp"

#include "core/json_schema.hpp"
#include "coworker/run_record.hpp"

namespace coworker {

operation await_operation(signal_board& board) {
  operation op;
  op.name = "await";
  op.mode = handler_mode::async;
  op.description = "waits for a signal {type: signal, key} (or one by run id); output: the signal's payload";
  op.input_schema = json{{"type", "object"},
                         {"properties", {{"key", {{"type", "string"}}}, {"schema", {{"type", "object"}}}}},
                         {"required", {"key"}}};
  op.async = [&board](const op_request& req, responder r) {
    const auto& in = req.in();
    auto key = in.is_object() ? in.find("key") : in.end();
    if (!in.is_object() || key == in.end() || !key->is_string() || key->get_ref<const std::string&>().empty() ||
        key->get_ref<const std::string&>().size() > max_signal_key_bytes) {
      r.fail(make_error(codes::invalid_input, "await needs {\"key\": <a string of 1 to " +
                                                  std::to_string(max_signal_key_bytes) + " bytes>}",
                        "/input/key"));
      return;
    }
    json schema;
    if (auto s = in.find("schema"); s != in.end() && !s->is_null()) {
      if (auto ok = schema::check(*s, "/input/schema"); !ok) {
        r.fail(ok.error());
        return;
      }
      schema = *s;
    }
    board.wait(req.run_id, key->get<std::string>(), std::move(schema), std::move(r), now_ms());
  };
  return op;
}

}  // namespace coworker

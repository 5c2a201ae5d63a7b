// parse_worker_frame (see worker_frame.hpp; the contract is docs/protocol.md, "Workers").
#include "protocol/worker_frame.hpp"

#include <algorithm>

#include "chain/fields.hpp"
#include "chain/json_parse.hpp"
#include "chain/pointer.hpp"
#include "protocol/fields.hpp"

namespace coworker::protocol {

namespace {

expected<worker_message> parse_hello(const json& msg) {
  worker_hello h;
  auto capacity = int_field(msg, "capacity", 1, 1, max_worker_capacity);
  if (!capacity) return capacity.error();
  h.capacity = static_cast<int>(*capacity);
  auto ops = msg.find("operations");
  if (ops == msg.end() || ops->is_null()) return worker_message(std::move(h));
  if (!ops->is_array())
    return make_error(codes::invalid_input, "\"operations\" must be an array of names or {\"name\": …} objects", "/operations");
  for (std::size_t i = 0; i < ops->size(); ++i) {
    const auto& o = (*ops)[i];
    const std::string at = "/operations/" + std::to_string(i);
    worker_op op;
    if (o.is_string()) {
      op.name = o.get<std::string>();
    } else if (o.is_object()) {
      auto name = string_field(o, "name", true, at);
      if (!name) return name.error();
      op.name = std::move(*name);
      auto schema = object_field(o, "inputSchema", at);
      if (!schema) return schema.error();
      if (*schema) op.input_schema = **schema;
    } else {
      return make_error(codes::invalid_input, "an operation is a name or a {\"name\": …} object", at);
    }
    const std::string name_at = o.is_string() ? at : at + "/name";
    if (!chain::detail::valid_name(op.name))
      return make_error(codes::invalid_input,
                        "an operation name matches [A-Za-z_][A-Za-z0-9_-]* (got '" + chain::printable(op.name, 64) + "')", name_at);
    if (op.name == "run") return make_error(codes::invalid_input, "'run' is the chain form, not an operation", name_at);
    bool seen = std::any_of(h.operations.begin(), h.operations.end(), [&](const worker_op& w) { return w.name == op.name; });
    if (!seen) h.operations.push_back(std::move(op));
  }
  return worker_message(std::move(h));
}

expected<worker_message> parse_answer(const json& msg, bool ok) {
  auto task_id = string_field(msg, "taskId", true);
  if (!task_id) return task_id.error();
  if (ok) {
    auto it = msg.find("output");
    return worker_message(worker_result{std::move(*task_id), it == msg.end() ? json() : *it});
  }
  worker_failure f{std::move(*task_id), codes::handler_error, "failed"};
  auto err = object_field(msg, "error");
  if (!err) return err.error();
  if (*err) {
    auto code = string_field(**err, "code", false, "/error");
    if (!code) return code.error();
    auto message = string_field(**err, "message", false, "/error");
    if (!message) return message.error();
    if (!code->empty()) f.code = std::move(*code);
    if (!message->empty()) f.message = std::move(*message);
  }
  return worker_message(std::move(f));
}

}  // namespace

expected<worker_message> parse_worker_frame(std::string_view frame, const limits& lim) {
  const auto most = max_worker_frame_bytes(lim);
  if (frame.size() > most)
    return make_error(codes::too_large, "a worker frame is at most " + std::to_string(most) + " bytes (got " +
                                            std::to_string(frame.size()) + ")");
  limits frame_lim = lim;
  frame_lim.max_request_bytes = most;  // results may be larger than a request
  auto parsed = chain::parse_json(frame, frame_lim);
  if (!parsed) return parsed.error();
  const json& msg = *parsed;
  if (!msg.is_object()) return make_error(codes::bad_json, "a worker message is a JSON object with a \"type\"");
  auto type = string_field(msg, "type", true);
  if (!type) return make_error(codes::bad_json, "a worker message needs a \"type\" string", "/type");
  if (*type == "hello") return parse_hello(msg);
  if (*type == "result") return parse_answer(msg, true);
  if (*type == "error") return parse_answer(msg, false);
  if (*type == "heartbeat") return worker_message(worker_heartbeat{});
  if (*type == "bye") return worker_message(worker_bye{});
  return make_error(codes::unknown_type,
                    "unknown worker message type '" + chain::printable(*type, 64) + "' (hello, result, error, heartbeat, bye)", "/type");
}

}  // namespace coworker::protocol

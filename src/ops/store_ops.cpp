// select, create, update, delete, schema and send over the document store.
#include <fstream>

#include "coworker/run_record.hpp"
#include "ops/builtin.hpp"

namespace coworker::ops {

namespace {

error invalid(const std::string& op, const std::string& why) {
  return make_error(codes::invalid_input, op + ": " + why);
}

expected<std::string> doctype_of(const op_request& r) {
  if (!r.doctype.empty()) return r.doctype;
  const auto& in = r.in();
  if (in.is_object() && in.contains("doctype") && in["doctype"].is_string()) return in["doctype"].get<std::string>();
  return invalid(r.operation, "needs a doctype (the step's \"doctype\" field)");
}

/// update/delete: `where` is required (`{}` means every document, explicitly), or `name`.
expected<json> target_of(const op_request& r) {
  const auto& in = r.in();
  if (!in.is_object()) return invalid(r.operation, "input must be an object with \"where\" or \"name\"");
  if (in.contains("name")) {
    if (!in["name"].is_string()) return invalid(r.operation, "\"name\" must be a string");
    return json{{"name", in["name"]}};
  }
  if (!in.contains("where"))
    return invalid(r.operation, "needs \"where\" (use {} to mean every document) or \"name\"");
  return in["where"];
}

operation blocking(std::string name, std::string description, json schema, sync_handler fn) {
  operation op;
  op.name = std::move(name);
  op.mode = handler_mode::blocking_sync;
  op.description = std::move(description);
  op.input_schema = std::move(schema);
  op.sync = std::move(fn);
  return op;
}

}  // namespace

ops_config ops_config_from_json(const json& j) {
  ops_config c;
  if (j.is_object() && j.contains("send") && j["send"].is_object() && j["send"].contains("destination") &&
      j["send"]["destination"].is_string())
    c.send_destination = j["send"]["destination"].get<std::string>();
  return c;
}

std::vector<operation> store_operations(std::shared_ptr<store::document_store> docs, const ops_config& cfg) {
  std::vector<operation> ops;
  ops.push_back(blocking("select", "reads documents of the step's doctype: {where?, fields?, orderBy?, limit?, offset?}",
                         json{{"type", "object"}}, [docs](const op_request& r) -> expected<json> {
                           auto dt = doctype_of(r);
                           if (!dt) return dt.error();
                           json q = r.in().is_object() ? r.in() : json::object();
                           q.erase("doctype");
                           return docs->select(*dt, q);
                         }));
  ops.push_back(blocking("create", "creates documents: {data: doc | [docs]} or a bare object", json{{"type", "object"}},
                         [docs](const op_request& r) -> expected<json> {
                           auto dt = doctype_of(r);
                           if (!dt) return dt.error();
                           const auto& in = r.in();
                           if (in.is_object() && in.contains("data")) return docs->create(*dt, in["data"]);
                           if (in.is_object() && !in.empty()) return docs->create(*dt, in);
                           return invalid("create", "needs {\"data\": doc or [docs]} or a document object");
                         }));
  ops.push_back(blocking("update", "merges data into matching documents: {where | name, data}", json{{"type", "object"}},
                         [docs](const op_request& r) -> expected<json> {
                           auto dt = doctype_of(r);
                           if (!dt) return dt.error();
                           auto where = target_of(r);
                           if (!where) return where.error();
                           if (!r.in().contains("data")) return invalid("update", "needs \"data\" with the fields to set");
                           return docs->update(*dt, *where, r.in()["data"]);
                         }));
  ops.push_back(blocking("delete", "deletes matching documents: {where | name}", json{{"type", "object"}},
                         [docs](const op_request& r) -> expected<json> {
                           auto dt = doctype_of(r);
                           if (!dt) return dt.error();
                           auto where = target_of(r);
                           if (!where) return where.error();
                           return docs->remove(*dt, *where);
                         }));
  ops.push_back(blocking("schema", "the doctype's field definitions: {doctype} or the step's doctype",
                         json{{"type", "object"}}, [docs](const op_request& r) -> expected<json> {
                           auto dt = doctype_of(r);
                           if (!dt) return dt.error();
                           return docs->schemas().describe(*dt);
                         }));
  auto dest = cfg.send_destination;
  ops.push_back(blocking(
      "send", "delivers {to?, subject?, body?} to the configured destination (outbox or file)",
      json{{"type", "object"}}, [docs, dest](const op_request& r) -> expected<json> {
        const auto& in = r.in();
        if (!in.is_null() && !in.is_object()) return invalid("send", "input must be {to?, subject?, body?}");
        if (dest.empty())
          return make_error(codes::no_destination,
                            "send has no destination configured (set send.destination to \"outbox\" or \"file:PATH\")");
        json message = in.is_object() ? in : json::object();
        if (dest == "outbox") {
          json doc = message;
          doc["runId"] = r.run_id;
          auto created = docs->create("Outbox", doc);
          if (!created) return created.error();
          return json{{"delivered", true}, {"destination", "outbox"}, {"name", (*created)["data"][0]["name"]}};
        }
        if (dest.rfind("file:", 0) == 0) {
          auto path = dest.substr(5);
          std::ofstream out(path, std::ios::app);
          if (!out) return make_error(codes::handler_error, "send cannot write to '" + path + "'");
          out << dump(json{{"time", now_ms()}, {"runId", r.run_id}, {"message", message}}) << "\n";
          if (!out) return make_error(codes::handler_error, "send cannot write to '" + path + "'");
          return json{{"delivered", true}, {"destination", dest}};
        }
        return make_error(codes::no_destination, "unknown send destination '" + dest + "'");
      }));
  return ops;
}

}  // namespace coworker::ops

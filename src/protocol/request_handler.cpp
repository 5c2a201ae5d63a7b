// handle_request: validates a request frame and calls the engine.
#include "protocol/request_handler.hpp"

#include "chain/json_parse.hpp"
#include "core/value_forms.hpp"
#include "protocol/request.hpp"

namespace coworker::protocol {

namespace {

json ok_reply(json body, const json& id) {
  body["ok"] = true;
  if (!id.is_null()) body["id"] = id;
  return body;
}

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

outcome handle_object(engine& eng, const json& frame, bool hold) {
  outcome o;
  if (auto id = frame.find("id"); id != frame.end()) o.id = *id;
  auto fail = [&](const error& e) {
    o.reply = error_reply(e, o.id);
    return o;
  };
  auto parsed = parse_request(frame);
  if (!parsed) return fail(parsed.error());
  // Values past limits.blobBytes go out as blob references (docs/protocol.md, "Blobs").
  auto& forms = eng.forms();
  return std::visit(
      overloaded{
          [&](const run_request& r) {
            submit_options opts;
            opts.key = r.key;
            opts.start_at = r.start_at;
            opts.traceparent = r.traceparent;
            if (r.input) opts.input = *r.input;
            const bool durable = !eng.config().db_path.empty();
            // A waiting reply goes out after the chain's end is stored, which implies its start is.
            opts.wait_durable = !(durable && (hold || r.wait));
            auto id = r.chain ? eng.submit(*r.chain, opts) : eng.submit_ref(r.chain_ref, opts);
            if (!id) {
              auto e = id.error();
              if (r.chain && !e.path.empty() && e.code != codes::busy && e.code != codes::store_error &&
                  e.code != codes::unavailable)
                e.path = "/chain" + e.path;
              return fail(e);
            }
            if (r.wait) {
              o.wait_run_id = *id;
              return o;
            }
            // Accepted chains are running (docs/protocol.md); one that already ended says so.
            auto rec = eng.get(*id);
            std::string status = rec && (is_final(rec->status) || rec->status == run_status::scheduled)
                                     ? std::string(to_string(rec->status))
                                     : "running";
            o.reply = ok_reply(json{{"runId", *id}, {"status", status}}, o.id);
            if (!opts.wait_durable) o.ack_run_id = *id;
            return o;
          },
          [&](const get_request& r) {
            if (r.tree) {
              auto t = eng.tree(r.run_id, true);
              if (!t) return fail(t.error());
              o.reply = ok_reply(json{{"run", std::move(*t)}}, o.id);
            } else {
              auto rec = eng.get(r.run_id);
              if (!rec) return fail(rec.error());
              o.reply = ok_reply(json{{"run", to_json(*rec, forms)}}, o.id);
            }
            return o;
          },
          [&](const list_request& r) {
            o.reply_text = list_reply_text(eng, eng.list(r.query), o.id);
            return o;
          },
          [&](const cancel_request& r) {
            if (auto c = eng.cancel(r.run_id); !c) return fail(c.error());
            o.reply = ok_reply(json{{"runId", r.run_id}, {"cancelling", true}}, o.id);
            return o;
          },
          [&](const snapshot_request& r) {
            o.reply_text = snapshot_reply_text(eng, r.recent, o.id);
            return o;
          },
          [&](const blob_request& r) {
            auto v = eng.blob(r.blob_id);
            if (!v) return fail(v.error());
            o.reply = ok_reply(json{{"value", std::move(*v)}}, o.id);
            return o;
          },
          [&](const signal_request& r) {
            const json payload = r.payload ? *r.payload : json();
            const bool durable = !eng.config().db_path.empty();
            auto sent = r.key.empty() ? eng.signal_run(r.run_id, payload, !hold) : eng.signal(r.key, payload, !hold);
            if (!sent) return fail(sent.error());
            if (!sent->delivered) {
              o.reply = ok_reply(json{{"kept", true}}, o.id);
              return o;
            }
            json delivered{{"delivered", true}, {"runId", sent->run_id}};
            if (!sent->node.empty()) delivered["node"] = sent->node;  // in a cluster, the node that runs it
            o.reply = ok_reply(std::move(delivered), o.id);
            if (durable && hold && sent->node.empty()) {  // another node's answer came once stored there
              o.ack_run_id = sent->run_id;
              o.ack_on_end = true;
            }
            return o;
          },
          [&](const redrive_request& r) {
            redrive_options ro;
            ro.dry_run = r.dry_run;
            const bool durable = !eng.config().db_path.empty();
            // As for a run: a held reply goes out once the chain is stored as in flight again.
            ro.wait_durable = !(durable && (hold || r.wait));
            auto d = eng.redrive(r.run_id, ro);
            if (!d) return fail(d.error());
            if (r.dry_run) {
              o.reply = ok_reply(json{{"runId", d->run_id}, {"wouldRun", d->would_run}}, o.id);
              return o;
            }
            if (r.wait) {
              o.wait_run_id = d->run_id;
              return o;
            }
            o.reply = ok_reply(json{{"runId", d->run_id}, {"status", "running"}, {"redrives", d->redrives},
                                    {"wouldRun", d->would_run}},
                               o.id);
            if (!ro.wait_durable) o.ack_run_id = d->run_id;
            return o;
          },
          [&](const schedule_request& r) {
            auto s = eng.schedule(*r.frame);
            if (!s) return fail(s.error());
            o.reply = ok_reply(std::move(*s), o.id);
            return o;
          },
          [&](const schedules_request&) {
            o.reply = ok_reply(json{{"schedules", eng.schedules()}}, o.id);
            return o;
          },
          [&](const unschedule_request& r) {
            if (auto u = eng.unschedule(r.name); !u) return fail(u.error());
            o.reply = ok_reply(json{{"name", r.name}, {"removed", true}}, o.id);
            return o;
          },
          [&](const publish_request& r) {
            auto p = eng.publish(r.name, *r.chain, r.input_schema ? *r.input_schema : json(),
                                 r.output_schema ? *r.output_schema : json());
            if (!p) return fail(p.error());
            o.reply = ok_reply(json{{"name", p->name}, {"version", p->version}, {"sha256", p->sha256}, {"created", p->created}}, o.id);
            return o;
          },
          [&](const chains_request&) {
            o.reply = ok_reply(json{{"chains", eng.chains()}}, o.id);
            return o;
          },
          [&](const alias_request& r) {
            if (auto a = eng.alias(r.name, r.alias, r.version); !a) return fail(a.error());
            o.reply = ok_reply(json{{"name", r.name}, {"alias", r.alias}, {"version", r.version}}, o.id);
            return o;
          },
          [&](const operations_request&) {
            json ops = json::array();
            ops.push_back(json{{"name", "run"}, {"description", "a nested chain"}});
            for (const auto& op : eng.operations()) {
              json entry{{"name", op->name}, {"description", op->description}};
              if (!op->input_schema.is_null()) entry["inputSchema"] = op->input_schema;
              ops.push_back(std::move(entry));
            }
            o.reply = ok_reply(json{{"operations", std::move(ops)}}, o.id);
            return o;
          },
          [&](const nodes_request&) {
            auto nodes = eng.nodes();
            if (!nodes) return fail(nodes.error());
            json list = json::array();
            for (auto& n : *nodes) {
              json entry = std::move(n.addresses);  // "http", "requests", "events", "workers"
              entry["node"] = std::move(n.node);
              entry["self"] = n.self;
              list.push_back(std::move(entry));
            }
            o.reply = ok_reply(json{{"nodes", std::move(list)}}, o.id);
            return o;
          },
          [&](const ping_request&) {
            o.reply = ok_reply(json{{"pong", true}, {"seq", eng.seq()}, {"epoch", eng.epoch()}, {"stream", eng.stream()}}, o.id);
            return o;
          },
      },
      *parsed);
}

}  // namespace

json error_reply(const error& e, const json& id) {
  json err{{"code", e.code}, {"message", e.message}};
  if (!e.path.empty()) err["path"] = e.path;
  json r{{"ok", false}, {"error", std::move(err)}};
  if (!id.is_null()) r["id"] = id;
  return r;
}

outcome handle_request(engine& eng, std::string_view frame, bool hold) {
  outcome o;
  if (frame.empty()) {
    o.reply = error_reply(make_error(codes::bad_json, "empty request: send one JSON object"));
    return o;
  }
  auto parsed = chain::parse_json(frame, eng.config().lim);
  if (!parsed) {
    o.reply = error_reply(parsed.error());
    return o;
  }
  return handle_request(eng, *parsed, hold);
}

outcome handle_request(engine& eng, const json& request, bool hold) {
  outcome o;
  if (!request.is_object()) {
    o.reply = error_reply(make_error(codes::bad_json, "a request is a JSON object with a \"type\""));
    return o;
  }
  try {
    return handle_object(eng, request, hold);
  } catch (const std::exception& e) {
    o.reply = error_reply(make_error(codes::internal, std::string("request failed: ") + e.what()));
    return o;
  }
}

std::string run_reply_text(engine& eng, const std::string& run_id, const json& id, value_text_cache& cache) {
  auto records = eng.tree_records(run_id);
  if (records.empty()) return dump(error_reply(make_error(codes::not_found, "no run '" + run_id + "'"), id));
  std::string text = "{\"ok\":true,\"runId\":" + dump(json(run_id)) + ",\"status\":\"" +
                     std::string(to_string(records.front()->status)) + "\",";
  if (!id.is_null()) text += "\"id\":" + dump(id) + ",";
  text += "\"tree\":" + tree_text(records, eng.forms(), cache) + "}";
  return text;
}

std::string list_reply_text(engine& eng, const std::vector<run_record>& records, const json& id) {
  value_text_cache cache(256);
  std::string text = "{\"ok\":true,";
  if (!id.is_null()) text += "\"id\":" + dump(id) + ",";
  text += "\"runs\":[";
  text.reserve(text.size() + records.size() * 1024);
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i) text += ',';
    text += record_text(records[i], eng.forms(), cache);
  }
  return text + "]}";
}

std::string snapshot_reply_text(engine& eng, std::size_t recent, const json& id) {
  std::uint64_t seq = 0;
  auto records = eng.snapshot_records(recent, seq);
  value_text_cache cache(256);  // a value passed down a chain is in two records: written once
  auto text = snapshot_text(seq, eng.epoch(), eng.stream(), records, eng.forms(), cache);
  // `{"seq":…` becomes `{"ok":true,"id":…,"seq":…`: ok_reply's members, the snapshot's after them.
  std::string head = "{\"ok\":true,";
  if (!id.is_null()) head += "\"id\":" + dump(id) + ",";
  return head + text.substr(1);
}

json run_reply(engine& eng, const std::string& run_id, const json& id) {
  auto t = eng.tree(run_id, true);
  if (!t) return error_reply(t.error(), id);
  json r{{"ok", true}, {"runId", run_id}, {"status", (*t)["status"]}, {"tree", std::move(*t)}};
  if (!id.is_null()) r["id"] = id;
  return r;
}

}  // namespace coworker::protocol

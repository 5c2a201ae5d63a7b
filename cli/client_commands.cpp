// The client commands: submit, runs, show, cancel, signal, redrive, schedules — they talk to
// `coworker serve` (watch and nodes: cli/cluster_commands.cpp).
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <thread>

#include <zmq.hpp>

#include "commands.hpp"
#include "coworker/coworker.hpp"
#include "coworker/security.hpp"
#include "client.hpp"

namespace coworker::cli {

namespace {


/// Resolves the CURVE options: both or neither.
expected<void> load_keys(client_args& a) {
  if (a.curve_server_key.empty() && a.curve_key_file.empty()) return {};
  if (a.curve_server_key.empty() || a.curve_key_file.empty())
    return make_error(codes::invalid_input, "CURVE needs both --curve-server-key (the daemon's public key) and "
                                            "--curve-key (this client's secret key file)");
  auto server = read_curve_key(a.curve_server_key);
  if (!server) return make_error(codes::invalid_input, "--curve-server-key: " + server.error().message);
  auto secret = read_curve_key_file(a.curve_key_file);
  if (!secret) return make_error(codes::invalid_input, "--curve-key: " + secret.error().message);
  auto pub = curve_public_key(*secret);
  if (!pub) return make_error(codes::invalid_input, "--curve-key: " + pub.error().message);
  a.curve = curve_keypair{*pub, *secret};
  a.curve_server_key = *server;
  return {};
}

}  // namespace

void secure(zmq::socket_t& s, const client_args& a) {
  if (a.curve.secret_key.empty()) return;
  s.set(zmq::sockopt::curve_serverkey, a.curve_server_key);
  s.set(zmq::sockopt::curve_publickey, a.curve.public_key);
  s.set(zmq::sockopt::curve_secretkey, a.curve.secret_key);
}

/// One request, one reply, with a timeout: a daemon that is not there is an error, not a hang.
expected<json> request(const client_args& a, const json& req, int timeout_ms) {
  zmq::context_t ctx;
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  // A DEALER without a peer (a daemon that refused the CURVE handshake) would wait to send for ever.
  s.set(zmq::sockopt::sndtimeo, std::max(1, timeout_ms));
  secure(s, a);
  s.connect(a.requests);
  auto timed_out = [&] {
    return make_error(codes::timeout, "no reply from " + a.requests + " within " + std::to_string(timeout_ms) +
                                          " ms (is `coworker serve` running?" +
                                          (a.curve.secret_key.empty() ? " Does it require CURVE keys?)"
                                                                      : " Is this client's key in its allow-list?)"));
  };
  auto text = dump(req);
  if (!s.send(zmq::message_t(), zmq::send_flags::sndmore) || !s.send(zmq::buffer(text), zmq::send_flags::none))
    return timed_out();
  zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) == 0) return timed_out();
  std::vector<zmq::message_t> parts;
  while (true) {
    zmq::message_t m;
    (void)s.recv(m);
    bool more = m.more();
    parts.push_back(std::move(m));
    if (!more) break;
  }
  auto reply = json::parse(parts.back().to_string_view(), nullptr, false);
  if (reply.is_discarded()) return make_error(codes::bad_json, "the daemon sent a reply that is not JSON");
  return reply;
}

int report(const expected<json>& r) {
  if (!r) {
    std::fprintf(stderr, "coworker: %s: %s\n", r.error().code.c_str(), r.error().message.c_str());
    return 1;
  }
  if (!(*r).value("ok", false)) {
    const auto& e = (*r)["error"];
    std::fprintf(stderr, "%s%s%s: %s\n", e.value("path", std::string()).c_str(), e.contains("path") ? " " : "",
                 e.value("code", std::string("error")).c_str(), e.value("message", std::string()).c_str());
    return e.value("code", std::string()) == "not_found" ? 1 : 2;
  }
  return 0;
}

namespace {

int submit(const client_args& a) {
  json req{{"type", "run"}, {"wait", a.wait}};
  if (a.file.empty() == a.chain_ref.empty())
    return std::fprintf(stderr, "coworker submit: give a chain FILE or --chain NAME@VERSION (one of them)\n"), 2;
  if (!a.chain_ref.empty()) {
    req["chainRef"] = a.chain_ref;
  } else {
    auto chain = json::parse(read_input(a.file), nullptr, false);
    if (chain.is_discarded()) return std::fprintf(stderr, "coworker: %s is not valid JSON\n", a.file.c_str()), 2;
    req["chain"] = std::move(chain);
  }
  if (!a.key.empty()) req["key"] = a.key;
  if (a.start_at) req["startAt"] = a.start_at;
  if (a.start_delay) req["startDelayMs"] = a.start_delay;
  if (!a.input.empty()) {
    auto in = json::parse(a.input, nullptr, false);
    if (in.is_discarded()) return std::fprintf(stderr, "coworker: --input is not valid JSON\n"), 2;
    req["input"] = in;
  }
  auto r = request(a, req, a.wait ? 24 * 3600 * 1000 : a.timeout_ms);
  if (int rc = report(r)) return rc;
  if (!a.wait) {
    std::cout << (*r)["runId"].get<std::string>() << " " << (*r)["status"].get<std::string>() << "\n";
    return 0;
  }
  std::cout << dump((*r)["tree"], 2) << "\n";
  return (*r)["status"] == "completed" ? 0 : 1;
}

int runs(const client_args& a) {
  json req{{"type", "list"}, {"limit", a.limit}};
  if (!a.status.empty()) req["status"] = a.status;
  auto r = request(a, req, a.timeout_ms);
  if (int rc = report(r)) return rc;
  for (const auto& run : (*r)["runs"]) {
    auto took = run["finished"].is_number() && run["started"].is_number()
                    ? std::to_string(run["finished"].get<long long>() - run["started"].get<long long>()) + " ms"
                    : std::string("-");
    std::printf("%s  %-9s  %-8s  %zu steps  %s\n", run["id"].get<std::string>().c_str(),
                run["status"].get<std::string>().c_str(), took.c_str(), run["childRunIds"].size(),
                run.value("stepId", json()).is_string() ? run["stepId"].get<std::string>().c_str() : "");
  }
  return 0;
}

int show(const client_args& a) {
  auto r = request(a, json{{"type", "get"}, {"runId", a.run_id}, {"tree", true}}, a.timeout_ms);
  if (int rc = report(r)) return rc;
  std::cout << dump((*r)["run"], 2) << "\n";
  return 0;
}

int cancel(const client_args& a) {
  auto r = request(a, json{{"type", "cancel"}, {"runId", a.run_id}}, a.timeout_ms);
  if (int rc = report(r)) return rc;
  std::cout << "cancelling " << a.run_id << "\n";
  return 0;
}

int signal(const client_args& a) {
  json req{{"type", "signal"}};
  if (!a.run_id.empty()) req["runId"] = a.run_id;
  if (!a.key.empty()) req["key"] = a.key;
  if (!a.payload.empty()) {
    auto p = json::parse(a.payload, nullptr, false);
    if (p.is_discarded()) return std::fprintf(stderr, "coworker: --payload is not valid JSON\n"), 2;
    req["payload"] = std::move(p);
  }
  auto r = request(a, req, a.timeout_ms);
  if (int rc = report(r)) return rc;
  if ((*r).value("delivered", false))
    std::cout << "delivered to " << (*r)["runId"].get<std::string>()
              << ((*r)["node"].is_string() ? " on node " + (*r)["node"].get<std::string>() : std::string()) << "\n";
  else
    std::cout << "kept until an await for '" << a.key << "' starts\n";
  return 0;
}

/// docs/chain-language.md, "Redrive": prints what runs again (and, with --wait, the record tree).
int redrive(const client_args& a) {
  json req{{"type", "redrive"}, {"runId", a.run_id}, {"dryRun", a.dry_run}, {"wait", a.wait}};
  auto r = request(a, req, a.wait ? 24 * 3600 * 1000 : a.timeout_ms);
  if (int rc = report(r)) return rc;
  if (a.wait) {
    std::cout << dump((*r)["tree"], 2) << "\n";
    return (*r)["status"] == "completed" ? 0 : 1;
  }
  std::string steps;
  for (const auto& s : (*r)["wouldRun"]) steps += (steps.empty() ? "" : ", ") + s.get<std::string>();
  if (steps.empty()) steps = "(none: only the chain's end)";
  if (a.dry_run) {
    std::cout << "a redrive of " << a.run_id << " would run: " << steps << "\n";
  } else {
    std::cout << a.run_id << " running (redrive " << (*r)["redrives"].get<int>() << "): " << steps << "\n";
  }
  return 0;
}

/// A time for people: "2026-12-02 14:05:00 UTC", or "-".
std::string when(const json& ms) {
  if (!ms.is_number_integer()) return "-";
  std::time_t t = static_cast<std::time_t>(ms.get<std::int64_t>() / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

int schedules(const client_args& a) {
  auto r = request(a, json{{"type", "schedules"}}, a.timeout_ms);
  if (int rc = report(r)) return rc;
  for (const auto& s : (*r)["schedules"]) {
    auto rule = s.contains("cron") ? s["cron"].get<std::string>() + " " + s["tz"].get<std::string>()
                                   : "every " + std::to_string(s["everyMs"].get<std::int64_t>()) + " ms";
    std::printf("%-20s  %-28s  next %-23s  last %-23s  %s%s\n", s["name"].get<std::string>().c_str(), rule.c_str(),
                when(s["nextFireAt"]).c_str(), when(s["lastFireAt"]).c_str(), s["overlap"].get<std::string>().c_str(),
                s["paused"].get<bool>() ? "  paused" : "");
  }
  return 0;
}

}  // namespace

/// Runs a command once its CURVE keys are read.
int with_keys(client_args& a, int (*command)(const client_args&)) {
  if (auto r = load_keys(a); !r) return std::fprintf(stderr, "coworker: %s\n", r.error().message.c_str()), 2;
  return command(a);
}

CLI::App* client_command(CLI::App& app, const char* name, const char* help, client_args& a, bool several) {
  auto* cmd = app.add_subcommand(name, help);
  if (several) {  // watch: one pair per node of a cluster
    cmd->add_option("--requests", a.requests_list,
                    "a daemon's request endpoint (default tcp://127.0.0.1:5570); once per node of a cluster");
    cmd->add_option("--events", a.events_list,
                    "its event endpoint (default tcp://127.0.0.1:5571); once per node, in the order of --requests");
  } else {
    cmd->add_option("--requests", a.requests, "the daemon's request endpoint (default tcp://127.0.0.1:5570)");
    cmd->add_option("--events", a.events, "the daemon's event endpoint (default tcp://127.0.0.1:5571)");
  }
  cmd->add_option("--timeout", a.timeout_ms, "milliseconds to wait for a reply (default 10000)");
  cmd->add_option("--curve-server-key", a.curve_server_key, "CURVE: the daemon's public key, or its .pub file")
      ->envname("COWORKER_CURVE_SERVER_KEY");
  cmd->add_option("--curve-key", a.curve_key_file, "CURVE: this client's secret key file (coworker keygen)")
      ->envname("COWORKER_CURVE_KEY");
  return cmd;
}

void add_client_commands(CLI::App& app, dispatch& d) {
  auto s = std::make_shared<client_args>();
  auto* c = client_command(app, "submit", "Submit a chain to the daemon", *s);
  c->add_option("file", s->file, "chain JSON file, or -");
  c->add_option("--chain", s->chain_ref, "instead of a file: a published chain (NAME@VERSION, NAME:ALIAS, NAME)");
  c->add_flag("--wait", s->wait, "wait for the chain to end and print its record tree");
  c->add_option("--key", s->key, "idempotency key: the same key returns the same run");
  c->add_option("--input", s->input, "JSON that replaces the chain's input");
  c->add_option("--start-at", s->start_at, "start at this time (ms since the epoch); scheduled until then");
  c->add_option("--start-delay", s->start_delay, "start this many ms from now; scheduled until then");
  c->callback([s, &d] { d.run = [s] { return with_keys(*s, submit); }; });

  auto w = std::make_shared<client_args>();
  c = client_command(app, "watch", "Show the live run tree from the events of a daemon, or of every node of a cluster", *w,
                     true);
  c->add_option("--chain", w->chain, "only this chain");
  c->add_flag("--cluster", w->cluster, "follow every node of the cluster of the daemon at --requests (it lists them)");
  c->callback([w, &d] { d.run = [w] { return with_keys(*w, watch); }; });

  auto n = std::make_shared<client_args>();
  c = client_command(app, "nodes", "List the live nodes of the daemon's cluster with their endpoints", *n);
  c->callback([n, &d] { d.run = [n] { return with_keys(*n, nodes); }; });

  auto l = std::make_shared<client_args>();
  c = client_command(app, "runs", "List chains", *l);
  c->add_option("--status", l->status, "scheduled, running, waiting, completed, failed, skipped or cancelled");
  c->add_option("--limit", l->limit, "at most this many (default 20)");
  c->callback([l, &d] { d.run = [l] { return with_keys(*l, runs); }; });

  auto g = std::make_shared<client_args>();
  c = client_command(app, "show", "Print a run with its descendants", *g);
  c->add_option("run_id", g->run_id, "the run id")->required();
  c->callback([g, &d] { d.run = [g] { return with_keys(*g, show); }; });

  auto sg = std::make_shared<client_args>();
  c = client_command(app, "signal", "Send a signal to the await step waiting for KEY (or keep it for one)", *sg);
  c->add_option("key", sg->key, "the signal's key (an await step's input.key)");
  c->add_option("--run", sg->run_id, "instead of a key: the run id of one waiting await step");
  c->add_option("--payload", sg->payload, "the signal's payload, JSON (default null)");
  c->callback([sg, &d] {
    d.run = [sg] {
      if (sg->key.empty() == sg->run_id.empty())
        return std::fprintf(stderr, "coworker signal: give a KEY or --run RUN_ID (one of them)\n"), 2;
      return with_keys(*sg, signal);
    };
  });

  auto rd = std::make_shared<client_args>();
  c = client_command(app, "redrive", "Continue a failed or cancelled chain: what ended well is kept, the rest runs again", *rd);
  c->add_option("run_id", rd->run_id, "the chain's run id")->required();
  c->add_flag("--dry-run", rd->dry_run, "only print the steps that would run again");
  c->add_flag("--wait", rd->wait, "wait for the chain to end and print its record tree");
  c->callback([rd, &d] { d.run = [rd] { return with_keys(*rd, redrive); }; });

  auto sc = std::make_shared<client_args>();
  c = client_command(app, "schedules", "List the daemon's schedules with their next and last fire times", *sc);
  c->callback([sc, &d] { d.run = [sc] { return with_keys(*sc, schedules); }; });

  auto x = std::make_shared<client_args>();
  c = client_command(app, "cancel", "Cancel a run and everything below it", *x);
  c->add_option("run_id", x->run_id, "the run id")->required();
  c->callback([x, &d] { d.run = [x] { return with_keys(*x, cancel); }; });
}

}  // namespace coworker::cli

// The commands that follow a daemon or a whole cluster: watch (the live run tree from the events of
// one daemon or of every node, docs/cluster.md, "Events") and nodes (the live nodes with their
// endpoints, docs/cluster.md, "Finding the nodes").
#include <cstdio>
#include <iostream>
#include <thread>

#include <zmq.hpp>

#include "client.hpp"
#include "core/stream_follower.hpp"
#include "coworker/coworker.hpp"
#include "tree_view.hpp"

namespace coworker::cli {

namespace {

/// One followed node: its request endpoint (for snapshots) and its events socket.
struct followed_node {
  client_args args;  ///< `requests` is this node's
  std::string events;
  std::string stream;  ///< its name, once a snapshot or an event said it
};

/// `j[key]` when `j` is an object and that is a string, else `fallback`: a reply of another shape
/// never throws.
std::string text_at(const json& j, const char* key, std::string fallback = {}) {
  if (!j.is_object()) return fallback;
  auto f = j.find(key);
  return f != j.end() && f->is_string() ? f->get<std::string>() : fallback;
}

/// The live nodes of the cluster of the daemon at `a.requests`, as the `nodes` request lists them.
expected<json> list_nodes(const client_args& a) {
  auto r = request(a, json{{"type", "nodes"}}, a.timeout_ms);
  if (!r) return r;
  const auto ok = r->is_object() ? r->find("ok") : r->end();
  const auto nodes = r->is_object() ? r->find("nodes") : r->end();
  if (ok == r->end() || *ok != true || nodes == r->end() || !nodes->is_array()) {
    const auto e = r->is_object() ? r->find("error") : r->end();
    const json none;
    const auto& err = e == r->end() ? none : *e;
    return make_error(text_at(err, "code", codes::internal), text_at(err, "message", "no list of nodes in the reply"));
  }
  return *nodes;
}

/// The nodes `watch` follows: each --requests with the --events given at the same place (one pair
/// per node of a cluster: docs/cluster.md, "Events"), or with --cluster every live node the daemon
/// at --requests lists (those that advertise both endpoints).
expected<std::vector<followed_node>> followed_nodes(const client_args& a) {
  if (a.cluster) {
    if (a.requests_list.size() > 1 || !a.events_list.empty())
      return make_error(codes::invalid_input, "watch --cluster: give one --requests (a node of the cluster) and no --events: "
                                              "the node lists the others");
    auto first = a;
    if (!a.requests_list.empty()) first.requests = a.requests_list.front();
    auto listed = list_nodes(first);
    if (!listed) return listed.error();
    std::vector<followed_node> out;
    for (const auto& n : *listed) {
      const auto requests = text_at(n, "requests"), events = text_at(n, "events");
      if (requests.empty() || events.empty()) {
        std::fprintf(stderr, "coworker watch: node '%s' has no ZeroMQ endpoints: not followed\n", text_at(n, "node").c_str());
        continue;
      }
      followed_node f{a, events, text_at(n, "node")};
      f.args.requests = requests;
      out.push_back(std::move(f));
    }
    if (out.empty()) return make_error(codes::not_found, "no node of the cluster has ZeroMQ endpoints to follow");
    return out;
  }
  auto requests = a.requests_list.empty() ? std::vector<std::string>{a.requests} : a.requests_list;
  auto events = a.events_list.empty() ? std::vector<std::string>{a.events} : a.events_list;
  if (requests.size() != events.size())
    return make_error(codes::invalid_input, "watch: give one --events for each --requests, in the same order (" +
                                                std::to_string(requests.size()) + " --requests, " +
                                                std::to_string(events.size()) + " --events)");
  std::vector<followed_node> out;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    followed_node n{a, events[i], {}};
    n.args.requests = requests[i];
    out.push_back(std::move(n));
  }
  return out;
}

/// Subscribe first, then snapshot (the Clone pattern), for every node followed; drop events at or
/// below a node's snapshot; on a gap or a restart of a node, say so and take a new snapshot of that
/// node (core/stream_follower.hpp decides).
int watch_nodes(const client_args& a) {
  auto nodes = followed_nodes(a);
  if (!nodes) return std::fprintf(stderr, "coworker: %s\n", nodes.error().message.c_str()), 2;
  const bool several = nodes->size() > 1;
  zmq::context_t ctx;
  std::vector<zmq::socket_t> subs;
  for (const auto& n : *nodes) {
    auto& sub = subs.emplace_back(ctx, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    sub.set(zmq::sockopt::rcvhwm, 0);
    secure(sub, n.args);
    if (a.chain.empty()) {
      sub.set(zmq::sockopt::subscribe, "");
    } else {
      for (const char* kind : {"before:run ", "update:run ", "after:run "}) sub.set(zmq::sockopt::subscribe, kind + a.chain);
      sub.set(zmq::sockopt::subscribe, "heartbeat");
    }
    sub.connect(n.events);
  }
  tree_printer printer(std::cout, false);
  // Only a chain filter sees a subset of seqs, so gaps are detected without a filter only.
  stream_follower follow(nodes->size(), a.chain.empty());
  auto name = [&](std::size_t i) {
    const auto& n = (*nodes)[i];
    return several ? "node " + (n.stream.empty() ? n.args.requests : n.stream) + ": " : std::string();
  };
  auto resync = [&](std::size_t i) -> bool {
    auto snap = request((*nodes)[i].args, json{{"type", "snapshot"}}, a.timeout_ms);
    if (report(snap)) return false;
    if ((*snap)["stream"].is_string()) (*nodes)[i].stream = (*snap)["stream"];
    follow.snapshot(i, (*snap)["epoch"], (*snap)["seq"]);
    std::size_t running = 0, waiting = 0;
    for (const auto& r : (*snap)["runs"]) {
      running += r["status"] == "running";
      waiting += r["status"] == "waiting";
    }
    std::cout << "-- " << name(i) << "snapshot at seq " << follow.seq(i) << " (epoch " << follow.epoch(i)
              << "): " << (*snap)["runs"].size() << " runs, " << running << " running"
              << (waiting ? ", " + std::to_string(waiting) + " waiting for a signal" : "") << "\n";
    std::cout.flush();
    return true;
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the subscriptions reach the daemons
  for (std::size_t i = 0; i < nodes->size(); ++i)
    if (!resync(i)) return 1;
  std::vector<zmq::pollitem_t> items;
  for (auto& sub : subs) items.push_back({sub.handle(), 0, ZMQ_POLLIN, 0});
  using verdict = stream_follower::verdict;
  while (true) {
    if (zmq::poll(items, std::chrono::milliseconds(-1)) <= 0) continue;
    for (std::size_t i = 0; i < subs.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      zmq::message_t topic, body;
      if (!subs[i].recv(topic, zmq::recv_flags::dontwait) || !topic.more()) continue;
      (void)subs[i].recv(body);
      auto env = json::parse(body.to_string_view(), nullptr, false);
      if (env.is_discarded() || !env.is_object()) continue;
      const std::uint64_t s = env["seq"].is_number_unsigned() ? env["seq"].get<std::uint64_t>() : 0;
      const auto ep = env.value("epoch", std::string());
      if (env["event"] == "heartbeat") {
        if (follow.heartbeat(i, ep, s) == verdict::resync) {
          std::cout << "-- " << name(i)
                    << (ep != follow.epoch(i) ? "the daemon restarted" : "missed events up to seq " + std::to_string(s))
                    << ": resyncing\n";
          if (!resync(i)) return 1;
        }
        continue;
      }
      auto v = follow.event(i, ep, s);
      if (v == verdict::resync) {
        std::cout << "-- " << name(i) << "gap: expected seq " << follow.seq(i) + 1 << ", got " << s
                  << ": resyncing\n";
        if (!resync(i)) return 1;
        v = follow.event(i, ep, s);  // a second resync: older than the new snapshot
      }
      if (v != verdict::apply) continue;
      auto rec = run_record_from_json(env["run"]);
      if (!rec) continue;
      const auto kind = env["event"] == "before:run"   ? event_kind::before_run
                        : env["event"] == "update:run" ? event_kind::update_run
                                                       : event_kind::after_run;
      event e{s, ep, env.value("time", std::int64_t{0}), kind, std::make_shared<run_record>(std::move(*rec)),
              env.value("stream", std::string())};
      printer.on_event(e);
    }
  }
}

}  // namespace

int watch(const client_args& a) { return watch_nodes(a); }

int nodes(const client_args& a) {
  auto listed = list_nodes(a);
  if (!listed) return report(listed);
  for (const auto& n : *listed) {
    const bool self = n.is_object() && n.contains("self") && n["self"] == true;
    std::string line = text_at(n, "node") + (self ? " (this one)" : "");
    for (const char* kind : {"requests", "events", "workers", "http"})
      if (auto address = text_at(n, kind); !address.empty()) line += std::string("  ") + kind + " " + address;
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

}  // namespace coworker::cli

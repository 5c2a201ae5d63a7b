// Signals in the engine (docs/chain-language.md, "await"): the board (src/core/signal_board.hpp)
// decides; here a delivered signal is acknowledged once the await's end is stored, and in a cluster
// (docs/cluster.md, "Signals") a kept signal is offered to the other nodes, whose awaits may claim
// it, and a signal for a run another node runs is asked of that node.
#include <algorithm>

#include "engine_impl.hpp"

namespace coworker {

namespace {

/// How long signal() waits for the end of the await it delivered to be stored.
constexpr std::chrono::seconds signal_store_wait{60};
/// In a cluster: how long the node that asked waits for the answer of the node that runs the await,
/// and how long that node waits for the await's end to be stored before it answers.
constexpr std::chrono::seconds remote_signal_wait{10};
constexpr std::chrono::seconds remote_signal_store_wait{8};

/// `j[k]` when `j` is an object and that is a string, else `fallback`: an answer from another node
/// (anyone with the database can NOTIFY) of a wrong shape never throws.
std::string text(const json& j, const char* k, std::string fallback = {}) {
  auto f = j.is_object() ? j.find(k) : j.end();
  return f != j.end() && f->is_string() ? f->get<std::string>() : fallback;
}

}  // namespace

expected<signal_outcome> engine::impl::settle(expected<signal_result> r, bool wait_stored,
                                              std::chrono::milliseconds store_wait) {
  if (!r) return std::move(r).error();
  // A delivered signal is acknowledged once the await's end is stored (docs/durability.md).
  if (r->delivered && runs && wait_stored) {
    bool ended = false;
    if (registry->wait_final(r->run_id, store_wait, ended) && !ended)
      return make_error(codes::unavailable, "the signal went to run " + r->run_id +
                                                " but its end is not stored yet (the store cannot write); get the run to see it");
  }
  return signal_outcome{r->delivered, r->run_id, {}};
}

expected<signal_outcome> engine::impl::offer_kept(const signal_result& r) {
  const signal_outcome kept{false, {}, {}};
  // Every other live node is asked whether an await of its takes the signal; each answers once it
  // knows (a taker once the await's end is stored there), so a signal for no await anywhere is
  // answered `kept` after one round trip.
  std::size_t others = 0;
  if (auto live = peers->alive(); live) {
    for (const auto& n : *live) others += !n.self;
  } else {
    cfg.log_sink("warn", "the nodes of the cluster cannot be listed: " + live.error().message);
    others = 1;  // ask anyway; the answer of one taker is enough
  }
  if (others == 0) return kept;
  auto took = [](const json& a) { return a.is_object() && (a.contains("error") || (a.contains("took") && a["took"] == true)); };
  auto answers = mail->ask_many(cluster::node_mail::everyone, json{{"kept", r.kept_id}}, remote_signal_wait,
                                [&](const std::vector<json>& got) {
                                  return got.size() >= others || std::any_of(got.begin(), got.end(), took);
                                });
  if (!answers) {
    cfg.log_sink("warn", "a signal kept here could not be announced to the other nodes (their awaits take it once "
                         "they restart): " + answers.error().message);
    return kept;
  }
  for (const auto& a : *answers) {
    if (!took(a)) continue;
    if (auto e = a.find("error"); e != a.end() && e->is_object())
      return make_error(text(*e, "code", codes::internal), text(*e, "message"), text(*e, "path"));
    return signal_outcome{true, text(a, "runId"), text(a, "node")};
  }
  return kept;
}

std::string engine::impl::take_kept_elsewhere(std::uint64_t id) {
  if (!signal_rows) return {};
  auto s = signal_rows->kept(id);
  if (!s) {
    cfg.log_sink("warn", "a signal kept on another node cannot be read: " + s.error().message);
    return {};
  }
  return *s ? signals->offer(std::move(**s), now_ms()) : std::string();
}

void engine::impl::answer_kept(const json& question) {
  auto id = question.find("kept");
  if (id == question.end() || !id->is_number_unsigned()) return;
  auto reply = mail->answer_later(question);  // nobody waits for an announcement that is not a question
  // On the blocking pool: the store is read, and a taker answers once its await's end is stored.
  blocking->post([this, reply, id = id->get<std::uint64_t>()] {
    auto run = take_kept_elsewhere(id);
    if (run.empty()) return reply(json{{"took", false}});
    auto r = settle(signal_result{true, run, 0}, true, remote_signal_store_wait);
    if (!r) return reply(json{{"error", {{"code", r.error().code}, {"message", r.error().message}}}});
    reply(json{{"took", true}, {"runId", run}, {"node", cfg.cluster_node}});
  });
}

expected<signal_outcome> engine::impl::signal_run(const std::string& run_id, const json& payload, bool wait_stored) {
  auto here = signals->signal_run(run_id, payload);
  if (here || here.error().code != codes::not_waiting || !mail) return settle(std::move(here), wait_stored, signal_store_wait);
  // Not an await waiting here: in a cluster it may wait on the node that runs its chain.
  auto where = mail->owner_of(run_id);
  if (!where) return where.error();
  if (!*where || (*where)->owner == leases->owner()) return std::move(here).error();
  if ((*where)->owner.empty())
    return make_error(codes::unavailable, "run '" + run_id + "' is on a node that stopped, and no node has taken its "
                                          "chain over yet (within cluster.leaseMs); try again in a moment");
  // The owner answers once the await's end is stored there, whatever `wait_stored`: this node
  // cannot hold its reply for a record another node writes.
  (void)wait_stored;
  auto answer = mail->ask((*where)->owner, json{{"signalRun", run_id}, {"payload", payload}, {"waitStored", true}},
                          remote_signal_wait);
  if (!answer) {
    if (answer.error().code == codes::invalid_input)  // too large a payload for a NOTIFY
      return make_error(codes::invalid_input, answer.error().message + ": send this signal to node '" + (*where)->node +
                                                  "', which runs run " + run_id, "/payload");
    return make_error(codes::unavailable, "node '" + (*where)->node + "' runs run " + run_id + " and did not answer (" +
                                              answer.error().message + "); get the run to see whether it took the signal");
  }
  if (auto e = answer->is_object() ? answer->find("error") : answer->end(); e != answer->end() && e->is_object())
    return make_error(text(*e, "code", codes::internal), text(*e, "message"), text(*e, "path"));
  auto delivered = answer->is_object() ? answer->find("delivered") : answer->end();
  return signal_outcome{delivered != answer->end() && delivered->is_boolean() && delivered->get<bool>(),
                        text(*answer, "runId"), (*where)->node};
}

void engine::impl::answer_signal_run(const json& question) {
  auto reply = mail->answer_later(question);
  auto run = question.find("signalRun");
  if (run == question.end() || !run->is_string()) return;
  auto w = question.find("waitStored");  // from NOTIFY: any shape; a wrong type never throws
  const bool wait_stored = w == question.end() || !w->is_boolean() || w->get<bool>();
  // On the blocking pool: the answer may wait for the await's end to be stored.
  blocking->post([this, reply, run_id = run->get<std::string>(), payload = question.value("payload", json()),
                  wait_stored] {
    auto r = settle(signals->signal_run(run_id, payload), wait_stored, remote_signal_store_wait);
    if (!r) {
      reply(json{{"error", {{"code", r.error().code}, {"message", r.error().message}, {"path", r.error().path}}}});
      return;
    }
    reply(json{{"delivered", r->delivered}, {"runId", r->run_id}});
  });
}

expected<signal_outcome> engine::signal(const std::string& key, const json& payload, bool wait_stored) {
  if (key.empty() || key.size() > max_signal_key_bytes)
    return make_error(codes::invalid_input, "a signal's key is a string of 1 to " + std::to_string(max_signal_key_bytes) + " bytes", "/key");
  auto r = impl_->signals->signal(key, payload, now_ms());
  // No await of the key here: in a cluster, an await on another node may take it (docs/cluster.md, "Signals").
  if (r && !r->delivered && r->kept_id && impl_->mail && impl_->peers) return impl_->offer_kept(*r);
  return impl_->settle(std::move(r), wait_stored, signal_store_wait);
}

expected<signal_outcome> engine::signal_run(const std::string& run_id, const json& payload, bool wait_stored) {
  if (!impl_->registry->get(run_id)) return make_error(codes::not_found, "no run '" + run_id + "'", "/runId");
  return impl_->signal_run(run_id, payload, wait_stored);
}

}  // namespace coworker

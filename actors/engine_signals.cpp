// Signals in the engine (docs/chain-language.md, "await"): the board (src/core/signal_board.hpp)
// decides; here a delivered signal is acknowledged once the await's end is stored, and in a cluster
// (docs/cluster.md, "Signals") a kept signal is announced to the other nodes, whose awaits may claim
// it, and a signal for a run another node runs is asked of that node.
#include "engine_impl.hpp"

namespace coworker {

namespace {

/// How long signal() waits for the end of the await it delivered to be stored.
constexpr std::chrono::seconds signal_store_wait{60};
/// In a cluster: how long the node that asked waits for the answer of the node that runs the await,
/// and how long that node waits for the await's end to be stored before it answers.
constexpr std::chrono::seconds remote_signal_wait{10};
constexpr std::chrono::seconds remote_signal_store_wait{8};

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

void engine::impl::announce_kept(const signal_result& r) {
  if (!mail || r.delivered || !r.kept_id) return;
  if (auto sent = mail->send(cluster::node_mail::everyone, json{{"kept", r.kept_id}}); !sent)
    cfg.log_sink("warn", "a signal kept here could not be announced to the other nodes (their awaits take it once "
                         "they restart): " + sent.error().message);
}

void engine::impl::take_kept_elsewhere(std::uint64_t id) {
  if (!signal_rows) return;
  auto s = signal_rows->kept(id);
  if (!s) {
    cfg.log_sink("warn", "a signal kept on another node cannot be read: " + s.error().message);
    return;
  }
  if (*s) signals->offer(std::move(**s), now_ms());
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
  auto answer = mail->ask((*where)->owner, json{{"signalRun", run_id}, {"payload", payload}, {"waitStored", wait_stored}},
                          remote_signal_wait);
  if (!answer) {
    if (answer.error().code == codes::invalid_input)  // too large a payload for a NOTIFY
      return make_error(codes::invalid_input, answer.error().message + ": send this signal to node '" + (*where)->node +
                                                  "', which runs run " + run_id, "/payload");
    return make_error(codes::unavailable, "node '" + (*where)->node + "' runs run " + run_id + " and did not answer (" +
                                              answer.error().message + "); get the run to see whether it took the signal");
  }
  auto text = [](const json& j, const char* k, std::string fallback = {}) {  // a wrong type never throws
    auto f = j.is_object() ? j.find(k) : j.end();
    return f != j.end() && f->is_string() ? f->get<std::string>() : fallback;
  };
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
  if (r) impl_->announce_kept(*r);
  return impl_->settle(std::move(r), wait_stored, signal_store_wait);
}

expected<signal_outcome> engine::signal_run(const std::string& run_id, const json& payload, bool wait_stored) {
  if (!impl_->registry->get(run_id)) return make_error(codes::not_found, "no run '" + run_id + "'", "/runId");
  return impl_->signal_run(run_id, payload, wait_stored);
}

}  // namespace coworker

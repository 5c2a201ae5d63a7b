// The engine in a cluster (docs/cluster.md): on a PostgreSQL store it takes a home partition at
// start (and the partitions of dead nodes), keeps its leases on a thread of its own, resumes the
// chains of what it takes over, and stops writing and running the moment it loses a lease.
#include "engine_impl.hpp"

namespace coworker {

namespace {

std::string partitions_text(const std::vector<cluster::lease>& leases) {
  std::string out;
  for (const auto& l : leases)
    out += (out.empty() ? "" : ", ") + std::to_string(l.partition) + " (epoch " + std::to_string(l.epoch) + ")";
  return out;
}

}  // namespace

void engine::impl::open_cluster(const std::string& epoch) {
  auto db = store::sql::open(cfg.db_path, "the leases");
  if (!db) {
    startup_error = db.error();
    return;
  }
  // The owner is this start of the engine (its epoch): a node restarted is a new owner.
  leases = std::make_unique<cluster::lease_book>(std::move(*db), epoch, cfg.cluster_node, cfg.lease.count());
  auto home = leases->take_home();
  if (!home) {
    startup_error = home.error();
    return;
  }
  // What dead nodes left is resumed with this node's own chains (engine::resume).
  auto orphans = leases->take_over();
  if (!orphans) {
    startup_error = orphans.error();
    return;
  }
  if (auto r = runs->write_under(leases.get(), cfg.lease.count()); !r) {
    startup_error = r.error();
    return;
  }
  auto sender = store::sql::open(cfg.db_path, "the nodes' requests");
  if (!sender) {
    startup_error = sender.error();
    return;
  }
  auto listener = store::sql::listen_postgresql(cfg.db_path, cluster::node_mail::channel);
  if (!listener) {
    startup_error = listener.error();
    return;
  }
  mail = std::make_unique<cluster::node_mail>(std::move(*sender), std::move(*listener), epoch);
  auto directory = store::sql::open(cfg.db_path, "the nodes' addresses");
  if (!directory) {
    startup_error = directory.error();
    return;
  }
  // Listed at once, with no address yet: the serve command or the embedding program adds them.
  peers = std::make_unique<cluster::node_registry>(std::move(*directory), epoch, cfg.cluster_node);
  if (auto r = peers->join(); !r) {
    startup_error = r.error();
    return;
  }
  cfg.log_sink("info", "cluster node '" + cfg.cluster_node + "': partitions " + partitions_text(leases->held()) +
                           ", home " + std::to_string(home->partition) + ", lease " + std::to_string(cfg.lease.count()) + " ms");
}

void engine::impl::start_keeper() {
  if (!leases || startup_error) return;
  cluster::keeper_hooks hooks;
  hooks.log = cfg.log_sink;
  hooks.taken = [this](const std::vector<cluster::lease>& taken) {
    std::vector<int> partitions;
    for (const auto& l : taken) partitions.push_back(l.partition);
    std::size_t n = 0;
    {
      std::lock_guard lock(submit_mu);  // as start() spawns: the seeds, the keys
      n = resume(partitions);
    }
    cfg.log_sink("info", "cluster node '" + cfg.cluster_node + "': took over partition " + partitions_text(taken) +
                             " from a node that stopped; " + std::to_string(n) + " chains resume here");
  };
  hooks.lost = [this](const std::string& why) { fence(why); };
  keeper = std::make_unique<cluster::lease_keeper>(*leases, cfg.lease, std::move(hooks));
  // Requests from other nodes, once the engine can act on them (after its construction).
  mail->start([this](const json& m) {
    if (auto id = m.find("cancel"); id != m.end() && id->is_string()) {
      if (auto r = cancel(id->get<std::string>(), false); !r)
        cfg.log_sink("warn", "a cancel from another node: " + r.error().message);
    }
    if (auto name = m.find("schedule"); name != m.end() && name->is_string()) reload_schedule(name->get<std::string>());
    if (m.contains("kept")) answer_kept(m);
    if (m.contains("signalRun")) answer_signal_run(m);
  });
}

void engine::impl::fence(const std::string& why) {
  fenced_why = "this node ('" + cfg.cluster_node + "') lost its lease: " + why +
               "; its chains continue on the node that took them over";
  // Nothing more is written (the store would refuse it anyway) and no new chain is accepted.
  runs->fence(fenced_why);
  fenced.store(true, std::memory_order_release);
  cfg.log_sink("error", fenced_why + "; stopping its runs");
  stop_in_place();
  if (cfg.on_fenced) cfg.on_fenced(why);
}

expected<void> engine::impl::cancel(const std::string& run_id, bool forward) {
  // A top chain is entered before its id is known; a run below one is reached through it.
  if (auto a = core.find(run_id)) {
    caf::anon_send(a, cancel_atom::value);
    return {};
  }
  auto rec = registry->get(run_id);
  if (!rec) return make_error(codes::not_found, "no run '" + run_id + "'");
  if (is_final(rec->status)) return {};  // already ended: nothing left to cancel
  if (auto chain = core.find(rec->chain_id)) {
    caf::anon_send(chain, cancel_atom::value, run_id);
    return {};
  }
  // In a cluster a chain this node does not run is another node's (its record comes from the store).
  if (!mail || !forward) return {};
  auto where = mail->owner_of(run_id);
  if (!where) return where.error();
  if (!*where) return make_error(codes::not_found, "no run '" + run_id + "'");
  if ((*where)->owner.empty())
    return make_error(codes::unavailable, "run '" + run_id + "' is on a node that stopped, and no node has taken its "
                                          "chain over yet (within cluster.leaseMs); try again in a moment");
  if ((*where)->owner == leases->owner()) return {};  // here, and between resume and its actor: nothing to stop yet
  return mail->send((*where)->owner, json{{"cancel", run_id}});
}

expected<void> engine::advertise(const std::string& kind, const std::string& address) {
  auto& m = *impl_;
  {
    std::lock_guard lock(m.addresses_mu);
    if (address.empty())
      m.addresses.erase(kind);
    else
      m.addresses[kind] = address;
  }
  if (!m.peers) return {};
  auto r = m.peers->advertise(kind, address);
  if (!r) m.cfg.log_sink("error", "cluster node '" + m.cfg.cluster_node + "': its " + kind + " address is not advertised: " + r.error().message);
  return r;
}

expected<std::vector<node_info>> engine::nodes() const {
  auto& m = *impl_;
  if (!m.peers) {
    std::lock_guard lock(m.addresses_mu);
    return std::vector<node_info>{node_info{m.cfg.cluster_node, m.addresses, true}};
  }
  auto live = m.peers->alive();
  if (!live) return live.error();
  std::vector<node_info> out;
  for (auto& n : *live) {
    out.push_back(node_info{std::move(n.node), std::move(n.addresses), n.self});
  }
  return out;
}

void engine::impl::release_leases() {
  if (!leases || fenced.load(std::memory_order_acquire)) return;
  if (auto r = leases->release(); !r) cfg.log_sink("error", r.error().message);
}

}  // namespace coworker

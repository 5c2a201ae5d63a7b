// node_mail: NOTIFY to a node, LISTEN for this one (docs/cluster.md, "Any node answers").
#include "cluster/node_mail.hpp"

namespace coworker::cluster {

namespace sql = store::sql;

node_mail::node_mail(std::unique_ptr<sql::database> sender, std::unique_ptr<sql::notification_listener> listener,
                     std::string owner)
    : sender_(std::move(sender)), listener_(std::move(listener)), owner_(std::move(owner)) {}

void node_mail::start(std::function<void(const json&)> receive) {
  receive_ = std::move(receive);
  thread_ = std::thread([this] {
    while (!stop_.load(std::memory_order_acquire)) {
      auto payload = listener_->next(200);
      if (!payload) continue;
      auto m = json::parse(*payload, nullptr, false);
      // Every node hears every message: only what is addressed to this one, or to all the others, is
      // taken. Anyone who can connect may NOTIFY this channel: a payload of another shape is ignored.
      if (!m.is_object()) continue;
      auto to = m.find("to");
      if (to == m.end() || !to->is_string()) continue;
      const auto& whom = to->get_ref<const std::string&>();
      auto from = m.find("from");
      const bool mine = from != m.end() && from->is_string() && from->get_ref<const std::string&>() == owner_;
      if (whom == owner_ || (whom == everyone && !mine)) receive_(m);
    }
  });
}

node_mail::~node_mail() {
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

expected<std::optional<run_owner>> node_mail::owner_of(const std::string& run_id) {
  std::lock_guard lock(sender_mu_);
  auto q = sender_->prepare(
      "SELECT COALESCE(l.owner, ''), COALESCE(l.node, '') FROM runs r LEFT JOIN runs c ON c.rowid = r.chain "
      "JOIN chains ch ON ch.root_id = COALESCE(c.id, r.id) LEFT JOIN leases l ON l.partition = ch.partition "
      "AND l.expires > now() WHERE r.id = ?1");
  if (!q) return sender_->failure("find the node of run " + run_id);
  q->bind_text(1, run_id);
  const auto s = q->next();
  if (s == sql::step::failed) return sender_->failure("find the node of run " + run_id);
  if (s == sql::step::done) return std::optional<run_owner>();
  return std::optional<run_owner>(run_owner{q->text(0), q->text(1)});
}

expected<void> node_mail::send(const std::string& to, json message) {
  message["to"] = to;
  message["from"] = owner_;
  std::lock_guard lock(sender_mu_);
  auto q = sender_->prepare("SELECT pg_notify(?1, ?2)");
  if (!q) return sender_->failure("send to another node");
  q->bind_text(1, channel);
  q->bind_text(2, dump(message));
  if (q->next() != sql::step::row) return sender_->failure("send to another node");
  return {};
}

}  // namespace coworker::cluster

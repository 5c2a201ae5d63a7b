// node_mail: NOTIFY to a node, LISTEN for this one (docs/cluster.md, "Any node answers").
#include "cluster/node_mail.hpp"

#include "core/thread_name.hpp"

namespace coworker::cluster {

namespace sql = store::sql;

node_mail::node_mail(std::unique_ptr<sql::database> sender, std::unique_ptr<sql::notification_listener> listener,
                     std::string owner)
    : out_(std::make_shared<outbox>()), listener_(std::move(listener)), owner_(std::move(owner)) {
  out_->db = std::move(sender);
  out_->owner = owner_;
}

void node_mail::start(std::function<void(const json&)> receive) {
  receive_ = std::move(receive);
  thread_ = std::thread([this] {
    name_thread("cw-node-mail");
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
      if (whom != owner_ && (whom != everyone || mine)) continue;
      if (auto a = m.find("answer"); a != m.end() && a->is_number_unsigned()) {
        std::lock_guard lock(asked_mu_);
        if (auto q = asked_.find(a->get<std::uint64_t>()); q != asked_.end()) {
          auto reply = m.find("reply");
          q->second.push_back(reply == m.end() ? json() : *reply);
        }
        answered_.notify_all();
        continue;
      }
      receive_(m);
    }
  });
}

node_mail::~node_mail() {
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

expected<std::optional<run_owner>> node_mail::owner_of(const std::string& run_id) {
  std::lock_guard lock(out_->mu);
  auto& db = *out_->db;
  auto q = db.prepare(
      "SELECT COALESCE(l.owner, ''), COALESCE(l.node, '') FROM runs r LEFT JOIN runs c ON c.rowid = r.chain "
      "JOIN chains ch ON ch.root_id = COALESCE(c.id, r.id) LEFT JOIN leases l ON l.partition = ch.partition "
      "AND l.expires > now() WHERE r.id = ?1");
  if (!q) return db.failure("find the node of run " + run_id);
  q->bind_text(1, run_id);
  const auto s = q->next();
  if (s == sql::step::failed) return db.failure("find the node of run " + run_id);
  if (s == sql::step::done) return std::optional<run_owner>();
  return std::optional<run_owner>(run_owner{q->text(0), q->text(1)});
}

expected<void> node_mail::send(const std::string& to, json message) { return out_->send(to, std::move(message)); }

expected<void> node_mail::outbox::send(const std::string& to, json message) {
  message["to"] = to;
  message["from"] = owner;
  auto text = dump(message);
  if (text.size() > max_message_bytes)
    return make_error(codes::invalid_input, "a message to another node is at most " + std::to_string(max_message_bytes) +
                                                " bytes of JSON (PostgreSQL's NOTIFY), this one " +
                                                std::to_string(text.size()));
  std::lock_guard lock(mu);
  auto q = db->prepare("SELECT pg_notify(?1, ?2)");
  if (!q) return db->failure("send to another node");
  q->bind_text(1, channel);
  q->bind_text(2, text);
  if (q->next() != sql::step::row) return db->failure("send to another node");
  return {};
}

expected<json> node_mail::ask(const std::string& to, json message, std::chrono::milliseconds timeout) {
  auto got = ask_many(to, std::move(message), timeout, [](const std::vector<json>& a) { return !a.empty(); });
  if (!got) return got.error();
  if (got->empty()) return make_error(codes::timeout, "no answer from the other node within " + std::to_string(timeout.count()) + " ms");
  return std::move(got->front());
}

expected<std::vector<json>> node_mail::ask_many(const std::string& to, json message, std::chrono::milliseconds timeout,
                                                const std::function<bool(const std::vector<json>&)>& enough) {
  std::uint64_t n = 0;
  {
    std::lock_guard lock(asked_mu_);
    n = next_question_++;
    asked_[n];
  }
  message["ask"] = n;
  auto sent = send(to, std::move(message));
  std::unique_lock lock(asked_mu_);
  if (sent) answered_.wait_for(lock, timeout, [&] { return enough(asked_[n]); });
  auto replies = std::move(asked_[n]);
  asked_.erase(n);
  if (!sent) return sent.error();
  return replies;
}

std::function<void(json)> node_mail::answer_later(const json& question) {
  auto ask = question.find("ask");
  auto from = question.find("from");
  if (ask == question.end() || !ask->is_number_unsigned() || from == question.end() || !from->is_string())
    return [](json) {};  // not a question: nobody waits
  return [out = out_, to = from->get<std::string>(), n = ask->get<std::uint64_t>()](json reply) {
    (void)out->send(to, json{{"answer", n}, {"reply", std::move(reply)}});
  };
}

}  // namespace coworker::cluster

// The ZAP handler (ZeroMQ RFC 27, ZAP 1.0) and the start-up self-check.
#include "zap_handler.hpp"

#include <algorithm>
#include <optional>

#include "coworker/security.hpp"

namespace coworker {

void make_curve_server(zmq::socket_t& s, const std::string& secret_key, const std::string& domain) {
  s.set(zmq::sockopt::zap_domain, domain);
  s.set(zmq::sockopt::curve_server, 1);
  s.set(zmq::sockopt::curve_secretkey, secret_key);
}

void make_curve_client(zmq::socket_t& s, const std::string& server_key, const std::string& public_key,
                       const std::string& secret_key) {
  s.set(zmq::sockopt::curve_serverkey, server_key);
  s.set(zmq::sockopt::curve_publickey, public_key);
  s.set(zmq::sockopt::curve_secretkey, secret_key);
}

namespace {

std::string z85(const std::string& binary_key) {
  if (binary_key.size() != 32) return "?";
  char text[41] = {};
  zmq_z85_encode(text, reinterpret_cast<const std::uint8_t*>(binary_key.data()), 32);
  return text;
}

std::string binary(const std::string& z85_key) {
  std::string out(32, '\0');
  zmq_z85_decode(reinterpret_cast<std::uint8_t*>(out.data()), z85_key.c_str());
  return out;
}

}  // namespace

zap_handler::zap_handler(zmq::context_t& ctx, const std::vector<std::string>& allowed, log_fn log)
    : sock_(ctx, zmq::socket_type::rep), log_(std::move(log)) {
  for (const auto& k : allowed)
    if (is_curve_key(k)) allowed_.insert(binary(k));
}

expected<void> zap_handler::bind() {
  try {
    sock_.set(zmq::sockopt::linger, 0);
    sock_.bind("inproc://zeromq.zap.01");
  } catch (const zmq::error_t& e) {
    return make_error(codes::bind_failed, std::string("cannot bind the ZAP handler: ") + e.what());
  }
  return {};
}

void zap_handler::on_request() {
  while (true) {
    std::vector<zmq::message_t> f;
    zmq::message_t m;
    if (!sock_.recv(m, zmq::recv_flags::dontwait)) return;
    bool more = m.more();
    f.push_back(std::move(m));
    while (more) {
      zmq::message_t next;
      (void)sock_.recv(next);
      more = next.more();
      f.push_back(std::move(next));
    }
    // version, request id, domain, address, routing id, mechanism, credentials...
    auto frame = [&](std::size_t i) { return i < f.size() ? f[i].to_string() : std::string(); };
    const auto version = frame(0), request_id = frame(1), domain = frame(2), address = frame(3),
               mechanism = frame(5);
    const auto key = mechanism == "CURVE" && f.size() > 6 ? f[6].to_string() : std::string();
    bool known_domain =
        domain == zap_domain_requests || domain == zap_domain_events || domain == zap_domain_workers;
    bool ok = version == "1.0" && known_domain && key.size() == 32 && allowed_.count(key) > 0;
    const auto user = ok ? z85(key) : std::string();
    std::vector<std::string> reply{"1.0", request_id, ok ? "200" : "400",
                                   ok ? "OK" : (version != "1.0" ? "bad ZAP version" : "key not allowed"), user, ""};
    for (std::size_t i = 0; i < reply.size(); ++i)
      sock_.send(zmq::buffer(reply[i]), i + 1 < reply.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    if (ok) continue;
    const auto text = key.size() == 32 ? z85(key) : std::string();
    bool probe;
    {
      std::lock_guard lock(mu_);
      probe = !text.empty() && quiet_.count(text);
      if (probe)
        refused_quiet_.emplace(domain, text);
      else
        ++refused_;
    }
    if (!probe) log_refusal(address, domain, mechanism, text);
  }
}

void zap_handler::log_refusal(const std::string& address, const std::string& domain, const std::string& mechanism,
                              const std::string& key) {
  if (!log_) return;
  const auto now = std::chrono::steady_clock::now();
  // A refused client reconnects every 100 ms or so: each key is logged once a minute at most per
  // socket, and the log gets at most max_lines_ lines a minute whatever the number of keys.
  if (now - window_start_ >= std::chrono::minutes(1)) {
    window_start_ = now;
    lines_in_window_ = 0;
  }
  const auto who = domain + " " + key;
  auto it = last_logged_.find(who);
  if ((it != last_logged_.end() && now - it->second < std::chrono::minutes(1)) || lines_in_window_ >= max_lines_) {
    ++unlogged_;
    return;
  }
  if (last_logged_.size() >= 4096) last_logged_.clear();
  last_logged_[who] = now;
  ++lines_in_window_;
  std::string line = "refused a " + (mechanism.empty() ? std::string("?") : mechanism) + " client from " +
                     (address.empty() ? std::string("?") : address) + " on " + domain;
  line += key.empty() ? std::string(" (no key)") : " (key " + key.substr(0, 8) + "…, not in the allow-list)";
  if (unlogged_) line += "; " + std::to_string(unlogged_) + " more refusals not logged";
  unlogged_ = 0;
  log_("warn", line);
}

bool zap_handler::refused(const std::string& domain, const std::string& public_key) const {
  std::lock_guard lock(mu_);
  return refused_quiet_.count({domain, public_key}) > 0;
}

void zap_handler::quiet(const std::string& public_key) {
  std::lock_guard lock(mu_);
  quiet_.insert(public_key);
}

std::uint64_t zap_handler::refused_count() const {
  std::lock_guard lock(mu_);
  return refused_;
}

expected<void> check_refused(const std::vector<probe_target>& targets, const std::string& server_public_key,
                             zap_handler* zap, const std::function<void()>& provoke, std::chrono::milliseconds window,
                             std::chrono::milliseconds seen_bound) {
  auto unknown = make_curve_keypair();
  if (!unknown) return unknown.error();
  if (zap) zap->quiet(unknown->public_key);
  zmq::context_t ctx;
  struct probe {
    const probe_target* target;
    bool curve;
    zmq::socket_t sock;
  };
  std::vector<probe> probes;
  try {
    for (const auto& t : targets) {
      for (bool curve : {true, false}) {
        zmq::socket_t s(ctx, t.publisher ? zmq::socket_type::sub : zmq::socket_type::dealer);
        s.set(zmq::sockopt::linger, 0);
        if (curve) make_curve_client(s, server_public_key, unknown->public_key, unknown->secret_key);
        if (t.publisher) s.set(zmq::sockopt::subscribe, "");
        s.connect(t.endpoint);
        if (!t.publisher) {
          // Queued until the handshake succeeds, which it must not.
          s.send(zmq::message_t(), zmq::send_flags::sndmore);
          s.send(zmq::str_buffer(R"({"type":"ping"})"), zmq::send_flags::none);
        }
        probes.push_back(probe{&t, curve, std::move(s)});
      }
    }
  } catch (const zmq::error_t& e) {
    return make_error(codes::insecure, std::string("the security self-check could not connect: ") + e.what());
  }
  auto all_seen = [&] {
    if (!zap) return true;
    for (const auto& t : targets)
      if (!t.zap_domain.empty() && !zap->refused(t.zap_domain, unknown->public_key)) return false;
    return true;
  };
  const auto start = std::chrono::steady_clock::now();
  const auto seen_deadline = start + seen_bound;
  std::optional<std::chrono::steady_clock::time_point> quiet_until;
  std::vector<zmq::pollitem_t> items;
  for (auto& p : probes) items.push_back({p.sock.handle(), 0, ZMQ_POLLIN, 0});
  while (true) {
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(10));
    for (std::size_t i = 0; i < items.size(); ++i)
      if (items[i].revents & ZMQ_POLLIN)
        return make_error(codes::insecure, "security is not in force on the " + probes[i].target->name + " endpoint " +
                                          probes[i].target->endpoint + ": a client with " +
                                          (probes[i].curve ? "a key that is not allowed" : "no key (plain)") +
                                          (probes[i].target->publisher ? " received events" : " got an answer"));
    const auto now = std::chrono::steady_clock::now();
    if (!quiet_until) {
      if (all_seen()) {
        if (provoke) provoke();
        quiet_until = std::max(now + window / 2, start + window);
      } else if (now >= seen_deadline) {
        std::string which;
        for (const auto& t : targets)
          if (!t.zap_domain.empty() && !zap->refused(t.zap_domain, unknown->public_key))
            which += (which.empty() ? "" : ", ") + t.name;
        return make_error(codes::insecure, "security is not in force: the ZAP handler was not asked about a client "
                                      "with a key that is not allowed on " + which);
      }
    } else if (now >= *quiet_until) {
      return {};
    }
  }
}

}  // namespace coworker

// What the HTTP fuzz target checks (shared with its replay test): a real http_gateway on loopback
// (cpp-httplib's parser, the guard, the JSON API) over a real TCP connection. The input is
// "METHOD TARGET\nHeader: value\n...\n\nBODY"; the harness adds Host (unless the input has one),
// Content-Length and Connection: close, so every request is complete and must get an answer.
// /api/events is left out (a stream has no end). A request that waits for a chain is answered once
// the harness cancels what runs (after 1 s). Every answer must be HTTP; an /api error must be a
// JSON error with a listed code (docs/errors.md).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "coworker/http.hpp"
#include "edge_checks.hpp"
#include "request_checks.hpp"

namespace coworker::fuzz {

class http_harness {
 public:
  http_harness() : eng_(request_engine_config()), gw_(eng_, config()) {
    if (auto r = gw_.start(); !r) std::abort();
  }
  ~http_harness() { gw_.stop(); }

  std::vector<std::string> handle(std::string_view data) {
    std::vector<std::string> out;
    auto request = build(data);
    if (request.empty()) return out;
    auto response = exchange(request, out);
    if (out.empty()) check(response, out);
    end_what_runs(out);
    return out;
  }

  engine& eng() { return eng_; }
  const std::string& last_target() const { return target_; }

 private:
  /// Chains a request started without waiting are cancelled and must end: no input's runs are
  /// left for the next one.
  void end_what_runs(std::vector<std::string>& out) {
    auto running = eng_.list(list_query{run_status::running, {}, true, 1000});
    for (const auto& r : running) (void)eng_.cancel(r.id);
    for (const auto& r : running)
      if (!eng_.wait(r.id, cancel_budget)) out.push_back("run " + r.id + " did not end after cancel");
  }

  static http_config config() {
    http_config c;
    c.listen = "127.0.0.1:0";
    c.threads = 4;
    return c;
  }

  static std::string clean(std::string_view s) {
    std::string out;
    for (char c : s)
      if (c != '\r' && c != '\n') out += c;
    return out;
  }

  /// The raw request for `data`, or "" when it names /api/events.
  std::string build(std::string_view data) {
    auto split = data.find("\n\n");
    std::string_view head = data.substr(0, split);
    std::string_view body = split == std::string_view::npos ? std::string_view() : data.substr(split + 2);
    auto eol = head.find('\n');
    std::string first = clean(head.substr(0, eol));
    std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 1);
    auto space = first.find(' ');
    std::string method = space == std::string::npos ? first : first.substr(0, space);
    target_ = space == std::string::npos ? "/" : first.substr(space + 1);
    // A method cpp-httplib does not know gets no answer until its read timeout (4 s): the fuzzer
    // would crawl. Such a method becomes a known one (tests/e2e/hostile_input.py sends bogus ones).
    static const char* known[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"};
    if (std::find(std::begin(known), std::end(known), method) == std::end(known))
      method = known[method.empty() ? 0 : static_cast<unsigned char>(method[0]) % std::size(known)];
    if (target_.empty() || target_.find(' ') != std::string::npos) target_ = "/";
    // cpp-httplib reads no body for GET, HEAD and OPTIONS: the bytes would wait as the next request.
    if (method == "GET" || method == "HEAD" || method == "OPTIONS") body = {};
    head_ = method == "HEAD";  // an answer to HEAD has headers only
    if (target_.rfind("/api/events", 0) == 0) return "";
    std::string req = method + " " + target_ + " HTTP/1.1\r\n";
    bool host = false;
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      std::string line = clean(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      std::string name = line.substr(0, line.find(':'));
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (name == "content-length" || name == "transfer-encoding" || name == "connection" || name == "expect") continue;
      if (name == "host") host = true;
      if (!line.empty()) req += line + "\r\n";
    }
    if (!host) req += "Host: 127.0.0.1\r\n";
    req += "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    req.append(body);
    return req;
  }

  /// connect(), finished when a signal (libFuzzer's timer) interrupted it: it goes on asynchronously.
  static bool connected(int fd, const sockaddr_in& addr) {
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return true;
    if (errno != EINTR) return false;
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    while (::poll(&p, 1, 2000) < 0 && errno == EINTR) {
    }
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return false;
    errno = err;
    return err == 0 && (p.revents & POLLOUT);
  }

  std::string exchange(const std::string& request, std::vector<std::string>& out) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(gw_.port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{0, 250 * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string response;
    if (fd < 0 || !connected(fd, addr)) {
      const int err = errno;
      if (fd >= 0) ::close(fd);
      out.push_back("cannot connect to the HTTP server (" + std::string(std::strerror(err)) + ")");
      return response;
    }
    for (std::size_t sent = 0; sent < request.size();) {
      auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;  // the server may answer (and close) before reading everything
      sent += static_cast<std::size_t>(n);
    }
    const auto start = std::chrono::steady_clock::now();
    bool cancelled = false;
    char buf[65536];
    while (true) {
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        response.append(buf, static_cast<std::size_t>(n));
        if (complete(response, head_)) break;  // the server may keep a connection it could not parse open
        continue;
      }
      if (n == 0) break;  // closed: the whole answer is in
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) break;  // reset after the answer
      auto waited = std::chrono::steady_clock::now() - start;
      if (!cancelled && waited > std::chrono::seconds(1)) {
        // A request waiting for a chain: end what runs, its answer must follow.
        for (const auto& r : eng_.list(list_query{run_status::running, {}, true, 1000})) (void)eng_.cancel(r.id);
        cancelled = true;
      }
      if (waited > std::chrono::seconds(1) + cancel_budget + std::chrono::seconds(2)) {
        out.push_back("no answer to " + request.substr(0, 200));
        break;
      }
    }
    ::close(fd);
    return response;
  }

  /// Whether `r` holds a whole answer: its headers and Content-Length bytes of body (or the end
  /// of a chunked body).
  static bool complete(const std::string& r, bool head_only) {
    auto end = r.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    if (head_only) return true;
    std::string head = r.substr(0, end);
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (head.find("transfer-encoding: chunked") != std::string::npos) return r.size() >= 5 && r.compare(r.size() - 5, 5, "0\r\n\r\n") == 0;
    auto at = head.find("content-length:");
    if (at == std::string::npos) return false;
    return r.size() - (end + 4) >= std::strtoull(head.c_str() + at + 15, nullptr, 10);
  }

  void check(const std::string& response, std::vector<std::string>& out) const {
    if (response.rfind("HTTP/1.1 ", 0) != 0) {
      out.push_back("not an HTTP answer: " + response.substr(0, 200));
      return;
    }
    int status = std::atoi(response.c_str() + 9);
    if (status < 200 || status > 599) out.push_back("a status out of range: " + response.substr(0, 60));
    if (status == 500) out.push_back("500 (something failed inside the server): " + response.substr(0, 300));
    auto body_at = response.find("\r\n\r\n");
    if (status < 400 || head_ || target_.rfind("/api/", 0) != 0 || body_at == std::string::npos) return;
    auto headers = response.substr(0, body_at);
    if (headers.find("Content-Encoding") != std::string::npos) return;
    auto body = json::parse(response.substr(body_at + 4), nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("ok") || body["ok"] != false || !body.contains("error")) {
      out.push_back("an /api error that is not a JSON error: " + response.substr(0, 300));
      return;
    }
    check_error_object(body["error"], "http", out);
  }

  engine eng_;
  http_gateway gw_;
  std::string target_;
  bool head_ = false;
};

}  // namespace coworker::fuzz

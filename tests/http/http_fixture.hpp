// A daemon with its HTTP endpoint on a free loopback port, and small helpers to call it over real
// HTTP with httplib::Client.
#pragma once

#include <boost/test/unit_test.hpp>
#include <httplib.h>

#include "../waits.hpp"
#include "coworker/coworker.hpp"
#include "coworker/http.hpp"

namespace coworker::test {

inline engine_config quiet_engine() {
  engine_config c;
  c.log_sink = [](std::string_view, std::string_view) {};
  return c;
}

struct http_daemon {
  engine eng;
  http_gateway web;
  explicit http_daemon(std::string token = {}, engine_config c = quiet_engine())
      : eng(std::move(c)), web(eng, config(std::move(token))) {
    auto r = web.start();
    BOOST_REQUIRE_MESSAGE(r, (r ? std::string() : r.error().message));
  }
  static http_config config(std::string token) {
    http_config h;
    h.listen = "127.0.0.1:0";
    h.token = std::move(token);
    h.stream_heartbeat = std::chrono::milliseconds(200);
    return h;
  }
  httplib::Client client(const std::string& token = {}) const {
    httplib::Client c("127.0.0.1", web.port());
    c.set_read_timeout(20, 0);
    if (!token.empty()) c.set_bearer_token_auth(token.c_str());
    return c;
  }
};

/// The status and JSON body of a response (fails the test when there is no response).
struct reply {
  int status = 0;
  json body;
  std::string text;
};

inline reply to_reply(const httplib::Result& r) {
  BOOST_REQUIRE_MESSAGE(r, "no HTTP response: " << httplib::to_string(r.error()));
  reply out{r->status, nullptr, r->body};
  out.body = json::parse(r->body, nullptr, false);
  return out;
}

inline reply get(httplib::Client& c, const std::string& path) { return to_reply(c.Get(path.c_str())); }

inline reply post(httplib::Client& c, const std::string& path, const json& body) {
  return to_reply(c.Post(path.c_str(), dump(body), "application/json"));
}

inline json chain_of(std::vector<json> children) {
  return json{{"operation", "run"}, {"input", {{"n", 1}}}, {"children", json(std::move(children))}};
}

}  // namespace coworker::test

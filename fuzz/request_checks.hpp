// What the request fuzz target checks for one frame, shared with the replay test
// (tests/engine/fuzz_replay_test.cpp). One in-memory engine takes every frame; a run a frame
// starts is given a moment to end and is then cancelled, so runs never pile up and each input's
// effects are over before the next one.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "coworker/engine.hpp"
#include "chain/json_parse.hpp"
#include "protocol/request_handler.hpp"

namespace coworker::fuzz {

/// The engine the request target uses: in memory, the built-in operations only, small retention
/// (memory stays bounded however many runs the fuzzer starts), quiet.
inline engine_config request_engine_config() {
  engine_config c;
  c.threads = 2;
  c.blocking_threads = 2;
  c.retain_chains = 200;
  c.cancel_grace = std::chrono::milliseconds(100);
  c.lim.max_concurrent_runs = 16;
  c.log_sink = [](std::string_view, std::string_view) {};
  return c;
}

/// How long a cancelled run may take to end. The replay of `nested-foreach-explosion` cancels a
/// tree of 20,000 runs; in the g++ sanitizer build, beside other sanitized tests under ctest -j2 on
/// 2 cores, that took more than 3 s (2026-12-01). The fuzzer itself (clang) keeps 3 s, under its
/// own 5 s timeout.
#if defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
inline constexpr std::chrono::seconds cancel_budget{10};
#else
inline constexpr std::chrono::seconds cancel_budget{3};
#endif

class request_harness {
 public:
  request_harness() : eng_(request_engine_config()) {}

  /// Handles `frame` like the service does and returns what is wrong with the reply (empty: a
  /// clean reply). The text `"$last"` (with its quotes) in a frame stands for the id of the last
  /// run a frame started, so get/cancel/list can reach real runs.
  std::vector<std::string> handle(std::string_view data) {
    std::vector<std::string> out;
    std::string frame(data);
    if (!last_run_.empty())
      for (auto at = frame.find("\"$last\""); at != std::string::npos; at = frame.find("\"$last\"", at))
        frame.replace(at, 7, "\"" + last_run_ + "\"");

    auto o = protocol::handle_request(eng_, std::string_view(frame));
    if (!o.reply_text.empty()) {  // a reply written as text (list, snapshot) must be JSON
      o.reply = json::parse(o.reply_text, nullptr, false);
      if (o.reply.is_discarded()) out.push_back("a reply that is not JSON: " + o.reply_text.substr(0, 300));
    }
    std::string started = o.wait_run_id;
    if (!started.empty()) {
      settle(started, out);
      o.reply = protocol::run_reply(eng_, started, o.id);
    } else if (o.reply.is_object() && o.reply.value("ok", false) && o.reply.contains("runId") &&
               o.reply["runId"].is_string() && !o.reply.contains("cancelling")) {
      started = o.reply["runId"].get<std::string>();
      settle(started, out);
    }
    if (!started.empty()) last_run_ = started;
    check_reply(frame, o.reply, out);
    (void)dump(o.reply);  // what the service sends
    last_reply_ = std::move(o.reply);
    return out;
  }

  engine& eng() { return eng_; }
  /// The reply to the last frame handled.
  const json& last_reply() const { return last_reply_; }
  /// The id of the last run a frame started (empty: none yet).
  const std::string& last_run() const { return last_run_; }

 private:
  /// Lets a run end on its own for a moment, then cancels it; it must then end promptly, and
  /// nothing below it may still be running.
  void settle(const std::string& run_id, std::vector<std::string>& out) {
    if (!eng_.wait(run_id, std::chrono::milliseconds(300))) {
      (void)eng_.cancel(run_id);
      if (!eng_.wait(run_id, cancel_budget)) {
        out.push_back("run " + run_id + " did not end within " + std::to_string(cancel_budget.count()) +
                      " s of cancel");
        return;
      }
    }
    auto tree = eng_.tree(run_id);
    if (!tree) {
      out.push_back("no tree for the ended run " + run_id);
      return;
    }
    std::vector<const json*> todo{&*tree};
    while (!todo.empty()) {
      const json* r = todo.back();
      todo.pop_back();
      auto status = r->contains("status") && (*r)["status"].is_string()
                        ? parse_run_status((*r)["status"].get<std::string>())
                        : std::nullopt;
      if (!status || !is_final(*status)) {
        out.push_back("run " + run_id + " ended with a run below it not ended: " + dump(*r).substr(0, 300));
        return;
      }
      if (r->contains("children") && (*r)["children"].is_array())
        for (const auto& c : (*r)["children"]) todo.push_back(&c);
    }
  }

  void check_reply(const std::string& frame, const json& reply, std::vector<std::string>& out) const {
    if (!reply.is_object() || !reply.contains("ok") || !reply["ok"].is_boolean()) {
      out.push_back("a reply without a boolean \"ok\": " + dump(reply).substr(0, 300));
      return;
    }
    auto request = chain::parse_json(frame, eng_.config().lim);
    if (request && request->is_object() && request->contains("id") && !(*request)["id"].is_null() &&
        (!reply.contains("id") || reply["id"] != (*request)["id"]))
      out.push_back("the reply does not echo the request's id");
    if (reply["ok"].get<bool>()) return;
    const auto& e = reply.contains("error") ? reply["error"] : json();
    if (!e.is_object() || !e.contains("code") || !e["code"].is_string() || !e.contains("message") ||
        !e["message"].is_string() || e["message"].get_ref<const std::string&>().empty()) {
      out.push_back("an error reply without code and message: " + dump(reply).substr(0, 300));
      return;
    }
    // The codes docs/protocol.md lists for requests; `internal` means an exception escaped.
    static const std::vector<std::string> documented = {
        codes::bad_json,          codes::too_large,         codes::too_deep,         codes::unknown_type,
        codes::invalid_chain,     codes::unknown_field,     codes::duplicate_id,     codes::unknown_reference,
        codes::unknown_operation, codes::template_syntax,   codes::condition_syntax, codes::invalid_input,
        codes::not_found,         codes::busy,              codes::store_error,      codes::not_waiting};
    const auto& code = e["code"].get_ref<const std::string&>();
    if (std::find(documented.begin(), documented.end(), code) == documented.end())
      out.push_back("an undocumented error code: " + dump(e).substr(0, 300));
    if (e.contains("path")) {
      // A pointer into the request; for a missing field, into the object that lacks it.
      if (!e["path"].is_string()) {
        out.push_back("a non-string error path");
        return;
      }
      try {
        json::json_pointer p(e["path"].get<std::string>());
        if (request && !p.empty() && !request->contains(p) && !request->contains(p.parent_pointer()))
          out.push_back("an error path that is not in the request: " + dump(e).substr(0, 300));
      } catch (const std::exception&) {
        out.push_back("an error path that is not a JSON Pointer: " + dump(e).substr(0, 300));
      }
    }
  }

  engine eng_;
  std::string last_run_;
  json last_reply_;
};

}  // namespace coworker::fuzz

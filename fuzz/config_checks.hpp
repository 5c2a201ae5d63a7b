// What the config fuzz target checks (shared with its replay test): protocol::parse_config takes
// any text and gives settings within their documented ranges, or one error from the closed list.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "edge_checks.hpp"
#include "protocol/config_file.hpp"

namespace coworker::fuzz {

inline std::vector<std::string> check_config(std::string_view text) {
  std::vector<std::string> out;
  auto c = protocol::parse_config(text);
  if (!c) {
    check_error(c.error(), "config", out);
    return out;
  }
  const auto& l = c->limits;
  if (l.chain_depth && (*l.chain_depth < 1 || *l.chain_depth > 64)) out.push_back("chainDepth out of range");
  if (l.json_depth && (*l.json_depth < 2 || *l.json_depth > 512)) out.push_back("jsonDepth out of range");
  if (c->heartbeat_ms && *c->heartbeat_ms < 10) out.push_back("heartbeatMs below 10");
  if (!c->scheduler_policy.empty() && c->scheduler_policy != "sharing" && c->scheduler_policy != "stealing")
    out.push_back("an unknown scheduler policy passed");
  if (c->operations && !c->operations->is_object()) out.push_back("operations is not an object");
  return out;
}

}  // namespace coworker::fuzz

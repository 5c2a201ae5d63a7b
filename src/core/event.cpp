// Event envelopes and topics.
#include "coworker/event.hpp"

namespace coworker {

json to_json(const event& e) {
  return json{{"seq", e.seq},
              {"epoch", e.epoch},
              {"stream", e.stream},
              {"time", e.time},
              {"event", to_string(e.kind)},
              {"run", e.run ? to_json(*e.run) : json(nullptr)}};
}

std::string topic_of(const event& e) {
  std::string t = to_string(e.kind);
  if (e.run) {
    t += ' ';
    t += e.run->chain_id;
    t += ' ';
    t += e.run->id;
  }
  return t;
}

}  // namespace coworker

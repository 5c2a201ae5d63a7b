// Events (docs/protocol.md, "Events"): every start and end of a run, in order, with a gap-free
// sequence number.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "coworker/run_record.hpp"

namespace coworker {

/// before:run: a run started; update:run: a run not ended changed its status (an await step waits
/// for a signal); after:run: it ended (docs/protocol.md, "Events").
enum class event_kind { before_run, after_run, update_run };

inline const char* to_string(event_kind k) {
  switch (k) {
    case event_kind::before_run: return "before:run";
    case event_kind::after_run: return "after:run";
    case event_kind::update_run: return "update:run";
  }
  return "?";
}

struct event {
  std::uint64_t seq = 0;   ///< +1 per event of one engine instance
  std::string epoch;       ///< the engine instance; changes on restart
  std::int64_t time = 0;   ///< ms since the Unix epoch
  event_kind kind = event_kind::before_run;
  std::shared_ptr<const run_record> run;  ///< the record as of this event
  /// The stream the event belongs to: the engine's node name (docs/cluster.md, "Events"). Within
  /// one stream and epoch, seq grows by exactly 1.
  std::string stream;
};

/// The envelope `{seq, epoch, stream, time, event, run}`, the record's values whole (the protocol carries
/// large ones as blob references: docs/protocol.md, "Blobs").
json to_json(const event& e);

/// The topic of an event on the PUB socket: `<event> <chainId> <runId>`.
std::string topic_of(const event& e);

}  // namespace coworker

// stream_follower: the rules of a reliable view of one daemon's events, or of a cluster's
// (docs/protocol.md, "A reliable view"; docs/cluster.md, "Events"). A subscriber connects to the
// events endpoint of every node it follows; each endpoint is one stream, numbered by its own epoch
// and seq. For each message this says whether to apply it, drop it (the snapshot holds it already)
// or take a new snapshot of that stream first. `coworker watch` uses it; the Python and Node clients
// follow the same rules. No sockets, no clock: a test drives it message by message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace coworker {

class stream_follower {
 public:
  enum class verdict {
    apply,   ///< the next event of the stream: show it
    drop,    ///< at or before the stream's snapshot: it holds this already
    resync,  ///< something was missed (a gap, a new epoch, a heartbeat ahead): snapshot the stream
  };

  /// `streams`: how many endpoints are followed (0 … streams-1). `contiguous`: every event of a
  /// stream is seen, so a seq that is not last + 1 is a gap; false when the subscription is filtered
  /// (one chain's events), where only a new epoch is noticed.
  stream_follower(std::size_t streams, bool contiguous);

  /// A snapshot of stream `i` was taken: its records are current as of `seq` in `epoch`.
  void snapshot(std::size_t i, std::string epoch, std::uint64_t seq);
  /// An event of stream `i`; `apply` moves the stream to `seq`. Before the stream's first snapshot
  /// every event is `resync`. After `resync` and a new snapshot, offer the event again: `resync` a
  /// second time means it is older than that snapshot (a late event of an earlier epoch): drop it.
  verdict event(std::size_t i, std::string_view epoch, std::uint64_t seq);
  /// A heartbeat of stream `i` carrying its last published seq: `resync` when it is ahead of what
  /// was applied (events were lost) or of another epoch (the node restarted), else `drop`.
  verdict heartbeat(std::size_t i, std::string_view epoch, std::uint64_t seq) const;

  /// Where stream `i` stands: its epoch ("" before a snapshot) and last applied seq.
  const std::string& epoch(std::size_t i) const { return streams_.at(i).epoch; }
  std::uint64_t seq(std::size_t i) const { return streams_.at(i).seq; }
  std::size_t size() const { return streams_.size(); }

 private:
  struct position {
    std::string epoch;  ///< empty: no snapshot yet
    std::uint64_t seq = 0;
  };
  std::vector<position> streams_;
  bool contiguous_;
};

}  // namespace coworker

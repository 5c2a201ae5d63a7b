// stream_follower: one position (epoch, seq) per followed stream; the rules of docs/protocol.md,
// "A reliable view", applied to each stream on its own.
#include "core/stream_follower.hpp"

namespace coworker {

stream_follower::stream_follower(std::size_t streams, bool contiguous) : streams_(streams), contiguous_(contiguous) {}

void stream_follower::snapshot(std::size_t i, std::string epoch, std::uint64_t seq) {
  streams_.at(i) = position{std::move(epoch), seq};
}

stream_follower::verdict stream_follower::event(std::size_t i, std::string_view epoch, std::uint64_t seq) {
  auto& at = streams_.at(i);
  if (at.epoch.empty() || epoch != at.epoch) return verdict::resync;
  if (seq <= at.seq) return verdict::drop;
  if (contiguous_ && seq != at.seq + 1) return verdict::resync;
  at.seq = seq;
  return verdict::apply;
}

stream_follower::verdict stream_follower::heartbeat(std::size_t i, std::string_view epoch, std::uint64_t seq) const {
  const auto& at = streams_.at(i);
  if (at.epoch.empty() || epoch != at.epoch) return verdict::resync;
  return contiguous_ && seq > at.seq ? verdict::resync : verdict::drop;
}

}  // namespace coworker

// responder: completes an asynchronous handler's call exactly once, from any thread.
#include <atomic>

#include "coworker/operation.hpp"

namespace coworker {

struct responder::shared {
  sink out;
  std::atomic<bool> done{false};
};

responder::responder(sink s) : s_(std::make_shared<shared>()) { s_->out = std::move(s); }

bool responder::complete(expected<json> result) const {
  if (!s_ || s_->done.exchange(true)) return false;
  if (s_->out) s_->out(std::move(result));
  return true;
}

void responder::ok(json output) const { complete(expected<json>(std::move(output))); }
void responder::fail(error err) const { complete(expected<json>(std::move(err))); }
bool responder::done() const { return !s_ || s_->done.load(); }
void responder::mark_done() const {
  if (s_) s_->done.store(true);
}

}  // namespace coworker

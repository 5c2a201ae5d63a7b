// latency_histogram: a linear scan of 16 bounds is cheaper than anything cleverer at this size.
#include "core/histogram.hpp"

namespace coworker {

void latency_histogram::observe(std::chrono::nanoseconds d) {
  const auto ns = d.count() < 0 ? std::uint64_t{0} : static_cast<std::uint64_t>(d.count());
  const double seconds = static_cast<double>(ns) / 1e9;
  std::size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

histogram_data latency_histogram::read() const {
  histogram_data h;
  h.bounds.assign(bounds.begin(), bounds.end());
  std::uint64_t total = 0;
  for (const auto& c : counts_) {
    total += c.load(std::memory_order_relaxed);
    h.cumulative.push_back(total);
  }
  h.count = total;
  h.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return h;
}

}  // namespace coworker

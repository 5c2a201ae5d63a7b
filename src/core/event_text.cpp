// envelope_text: the record without its values, then the values from the cache.
#include "core/event_text.hpp"

#include "core/frame.hpp"

namespace coworker {

const std::string& value_text_cache::text(const value_ptr& v, std::size_t cut, bool& truncated) {
  if (!v) return null_;
  auto it = map_.find(v.get());
  if (it != map_.end()) {
    truncated = truncated || it->second.truncated;
    return it->second.text;
  }
  entry e{v, {}, false};
  auto size = cut > 0 ? approx_size(*v, cut) : 0;
  if (cut > 0 && size > cut) {
    e.text = dump(json{{"truncated", true}, {"bytes", size}});
    e.truncated = true;
  } else {
    e.text = dump(*v);
  }
  truncated = truncated || e.truncated;
  if (order_.size() >= capacity_) {
    map_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(v.get());
  return map_.emplace(v.get(), std::move(e)).first->second.text;
}

std::string record_text(const run_record& r, std::size_t cut, value_text_cache& cache) {
  run_record bare = r;
  bare.input.reset();
  bare.output.reset();
  auto rec = to_json(bare);
  rec.erase("input");
  rec.erase("output");
  bool truncated = false;
  const auto& in = cache.text(r.input, cut, truncated);
  const auto& output = cache.text(r.output, cut, truncated);
  if (truncated) rec["truncated"] = true;
  auto text = dump(rec);
  text.pop_back();  // the closing brace
  text += ",\"input\":";
  text += in;
  text += ",\"output\":";
  text += output;
  text += "}";
  return text;
}

std::string envelope_text(const event& e, std::size_t cut, value_text_cache& cache) {
  std::string out = "{\"seq\":" + std::to_string(e.seq) + ",\"epoch\":" + dump(json(e.epoch)) +
                    ",\"time\":" + std::to_string(e.time) + ",\"event\":\"" + to_string(e.kind) + "\",\"run\":";
  if (!e.run) return out + "null}";
  return out + record_text(*e.run, cut, cache) + "}";
}

}  // namespace coworker

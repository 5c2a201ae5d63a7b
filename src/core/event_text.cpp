// envelope_text: the record without its values, then the values (their forms) from the cache.
#include "core/event_text.hpp"

namespace coworker {

const std::string& value_text_cache::text(const value_ptr& v) {
  if (!v) return null_;
  auto it = map_.find(v.get());
  if (it != map_.end()) return it->second.text;
  if (order_.size() >= capacity_) {
    map_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(v.get());
  return map_.emplace(v.get(), entry{v, dump(*v)}).first->second.text;
}

std::string record_text(const run_record& r, value_forms& forms, value_text_cache& cache) {
  auto f = forms.of(r);
  run_record bare = r;
  bare.input.reset();
  bare.output.reset();
  auto rec = to_json(bare);
  rec.erase("input");
  rec.erase("output");
  const auto& in = cache.text(f.input);
  const auto& output = cache.text(f.output);
  auto text = dump(rec);
  text.pop_back();  // the closing brace
  text += ",\"input\":";
  text += in;
  text += ",\"output\":";
  text += output;
  text += "}";
  return text;
}

std::string envelope_text(const event& e, value_forms& forms, value_text_cache& cache) {
  std::string out = "{\"seq\":" + std::to_string(e.seq) + ",\"epoch\":" + dump(json(e.epoch)) +
                    ",\"time\":" + std::to_string(e.time) + ",\"event\":\"" + to_string(e.kind) + "\",\"run\":";
  if (!e.run) return out + "null}";
  return out + record_text(*e.run, forms, cache) + "}";
}

}  // namespace coworker

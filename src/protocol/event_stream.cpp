// SSE framing.
#include "protocol/event_stream.hpp"

namespace coworker::protocol {

std::string sse_message(std::string_view event_name, std::string_view data, std::uint64_t id) {
  std::string out;
  out.reserve(data.size() + event_name.size() + 32);
  if (id) out += "id: " + std::to_string(id) + "\n";
  out += "event: ";
  out += event_name;
  out += "\n";
  // A data line ends at a newline; compact JSON has none, but be exact for any text.
  std::size_t start = 0;
  while (true) {
    auto nl = data.find('\n', start);
    out += "data: ";
    out += data.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    out += "\n";
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  out += "\n";
  return out;
}

std::string sse_run_event(const event& e, value_forms& forms, value_text_cache& cache) {
  return sse_message("run", envelope_text(e, forms, cache), e.seq);
}

}  // namespace coworker::protocol

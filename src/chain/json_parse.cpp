// parse_json: nlohmann's parser is iterative; its callback sees every container start with its
// depth and every object key, so the depth limit and duplicate keys are enforced before anything
// deeper is built (a 100,000-deep `[[[...` stops at the limit, never on the stack).
#include "chain/json_parse.hpp"

#include <string>
#include <unordered_set>
#include <vector>

#include "chain/pointer.hpp"

namespace coworker::chain {

namespace {

struct abort_parse {
  error err;
};

/// Where the parser is: one frame per open container, to name a duplicate key by its pointer.
struct frame {
  bool array = false;
  std::size_t count = 0;  ///< arrays: elements completed so far (the index of the current one)
  std::string key;        ///< objects: the key being read
  std::unordered_set<std::string> keys;
};

std::string pointer_to(const std::vector<frame>& frames, std::size_t upto) {
  std::string p;
  for (std::size_t i = 0; i < upto; ++i)
    p = frames[i].array ? child_pointer(p, frames[i].count) : child_pointer(p, frames[i].key);
  return p;
}

std::string strip_prefix(std::string msg) {
  // "[json.exception.parse_error.101] parse error at line 1, column 3: ..." -> "parse error at ..."
  if (!msg.empty() && msg.front() == '[') {
    auto close = msg.find("] ");
    if (close != std::string::npos) msg.erase(0, close + 2);
  }
  return msg;
}

}  // namespace

expected<json> parse_json(std::string_view text, const limits& lim) {
  if (text.size() > lim.max_request_bytes)
    return make_error(codes::too_large, "the document is " + std::to_string(text.size()) +
                                            " bytes; the limit is " + std::to_string(lim.max_request_bytes));
  std::vector<frame> frames;
  const int max_depth = lim.max_json_depth;
  auto cb = [&](int depth, json::parse_event_t ev, json& parsed) -> bool {
    switch (ev) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start: {
        if (depth + 1 > max_depth)
          throw abort_parse{make_error(codes::too_deep,
                                       "JSON nesting deeper than " + std::to_string(max_depth) + " levels at " +
                                           (depth == 0 ? std::string("the top") : pointer_to(frames, frames.size())),
                                       "")};
        frame f;
        f.array = ev == json::parse_event_t::array_start;
        frames.push_back(std::move(f));
        break;
      }
      case json::parse_event_t::key: {
        if (frames.empty() || !parsed.is_string()) break;
        auto& top = frames.back();
        top.key = parsed.get_ref<const std::string&>();
        if (!top.keys.insert(top.key).second) {
          auto where = pointer_to(frames, frames.size());
          throw abort_parse{make_error(codes::bad_json, "duplicate key '" + printable(top.key) + "' at " + where,
                                       where)};
        }
        break;
      }
      case json::parse_event_t::value:
        if (!frames.empty() && frames.back().array) ++frames.back().count;
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames.empty()) frames.pop_back();
        if (!frames.empty() && frames.back().array) ++frames.back().count;
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const abort_parse& a) {
    return a.err;
  } catch (const json::parse_error& e) {
    return make_error(codes::bad_json, printable(strip_prefix(e.what()), 300) + " (byte " + std::to_string(e.byte) + ")");
  } catch (const std::exception& e) {
    return make_error(codes::bad_json, printable(strip_prefix(e.what()), 300));
  } catch (...) {
    return make_error(codes::bad_json, "the document could not be parsed");
  }
}

}  // namespace coworker::chain

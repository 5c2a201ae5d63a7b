// The files of the web page (web/), built into the binary by cmake/embed_web.cmake: the page needs
// no installed files and loads nothing from the network.
#pragma once

#include <string_view>

namespace coworker {

struct web_asset {
  std::string_view path;          ///< "/index.html", "/app.js", ...
  std::string_view content_type;
  std::string_view body;
};

/// The asset served at `path`, or null.
const web_asset* find_web_asset(std::string_view path);

}  // namespace coworker

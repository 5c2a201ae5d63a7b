// Large values by reference (issue 17, work in progress; not wired into the engine yet): a value whose
// compact JSON text passes a threshold is kept once as a content-addressed blob, and records and events
// carry `{"$blob":"sha256:<64 hex>","bytes":N}` in its place.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coworker/error.hpp"
#include "coworker/json.hpp"

namespace coworker::blob {

/// "sha256:" and the lower-case hex SHA-256 of `bytes`.
std::string id_of(std::string_view bytes);

/// Whether `v` is a reference: an object of exactly `$blob` (a well-formed id) and `bytes` (a count).
bool is_ref(const json& v);
json make_ref(const std::string& id, std::size_t bytes);

struct stored {
  std::string id;
  std::string text;  ///< the value's compact JSON
};

/// `v` with every part whose text passes `threshold` bytes put aside: a container past it has its
/// large members put aside first (so a value that carries another one unchanged, as a chain's output
/// carries its last step's, references the same blob), then itself when it is still past it. The
/// put-aside texts are appended to `out` (the same id at most once).
json externalize(const json& v, std::size_t threshold, std::vector<stored>& out);

/// `v` with every reference replaced by its value; `fetch` gives a blob's text by id (nullopt: missing).
/// not_found naming the id when one is missing; store_error when a blob's text is not its id's.
expected<json> resolve(const json& v, const std::function<std::optional<std::string>(const std::string&)>& fetch);

}  // namespace coworker::blob

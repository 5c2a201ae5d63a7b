// Large values by reference (docs/store.md, "Blobs"): a value whose JSON passes a threshold is kept
// once as a content-addressed blob, and records and events carry `{"$blob":"sha256:<64 hex>","bytes":N}`
// in its place. Sizes are decided with approx_size (core/frame.hpp), so the same value is always put
// aside the same way, whoever asks.
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
/// Whether `v` is or holds a reference.
bool holds_ref(const json& v);
json make_ref(const std::string& id, std::size_t bytes);

struct stored {
  std::string id;
  std::string text;  ///< the value's compact JSON
};

/// `v` with every part whose size passes `threshold` bytes put aside: a container past it has its
/// large members put aside first (so a value that carries another one unchanged, as a chain's output
/// carries its last step's, references the same blob), then itself when it is still past it. The
/// put-aside texts are appended to `out` (the same id at most once).
json externalize(const json& v, std::size_t threshold, std::vector<stored>& out);

/// `form` (a value, perhaps holding references) put aside whole: its reference, its text appended to
/// `out`. `bytes` counts the value it stands for, references resolved.
json keep_whole(const json& form, std::vector<stored>& out);

/// `v` with every reference replaced by its value; `fetch` gives a blob's text by id (nullopt: missing).
/// not_found naming the id when one is missing (or, with `keep_missing`, the reference left as it is:
/// a value a user wrote in that shape); store_error when a blob's text is not its id's.
expected<json> resolve(const json& v, const std::function<std::optional<std::string>(const std::string&)>& fetch,
                       bool keep_missing = false);

}  // namespace coworker::blob

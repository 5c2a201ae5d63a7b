// blob: content-addressed large values (see blob.hpp).
#include "core/blob.hpp"

#include <sodium.h>

#include <algorithm>

#include "core/frame.hpp"

namespace coworker::blob {

namespace {
constexpr std::string_view prefix = "sha256:";

bool well_formed(const std::string& id) {
  return id.size() == prefix.size() + 64 && id.compare(0, prefix.size(), prefix) == 0 &&
         std::all_of(id.begin() + static_cast<long>(prefix.size()), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

/// A reference to `text` (kept in `out` once); `bytes`: the size of the whole value it stands for.
json keep(std::string text, std::size_t bytes, std::vector<stored>& out) {
  auto id = id_of(text);
  if (std::none_of(out.begin(), out.end(), [&](const stored& s) { return s.id == id; })) out.push_back({id, std::move(text)});
  return make_ref(id, bytes);
}

/// What the references inside `form` stand for beyond their own text.
std::size_t hidden_bytes(const json& form) {
  if (is_ref(form)) {  // a reference a user wrote may claim fewer bytes than its own text
    auto bytes = form["bytes"].get<std::size_t>();
    auto text = dump(form).size();
    return bytes > text ? bytes - text : 0;
  }
  std::size_t n = 0;
  if (form.is_structured())
    for (const auto& m : form) n += hidden_bytes(m);
  return n;
}

/// `v` with what passes `threshold` put aside; `changed` is set when anything was.
json aside(const json& v, std::size_t threshold, std::vector<stored>& out, bool& changed) {
  if (is_ref(v) || approx_size(v, threshold) <= threshold) return v;
  changed = true;
  if (v.is_structured()) {
    json smaller = v.is_object() ? json::object() : json::array();
    bool inner = false;
    for (auto it = v.begin(); it != v.end(); ++it) {
      json m = aside(*it, threshold, out, inner);
      if (v.is_object()) {
        smaller[it.key()] = std::move(m);
      } else {
        smaller.push_back(std::move(m));
      }
    }
    // Still too large: the blob holds the references to its large members.
    if (inner) return approx_size(smaller, threshold) <= threshold ? smaller : keep_whole(smaller, out);
  }
  auto text = dump(v);
  auto bytes = text.size();
  return keep(std::move(text), bytes, out);
}
}  // namespace

std::string id_of(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  static const char* hex = "0123456789abcdef";
  std::string out(prefix);
  for (unsigned char b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

bool is_ref(const json& v) {
  if (!v.is_object() || v.size() != 2) return false;
  auto id = v.find("$blob");
  auto bytes = v.find("bytes");
  return id != v.end() && bytes != v.end() && id->is_string() && well_formed(id->get_ref<const std::string&>()) &&
         bytes->is_number_unsigned();
}

bool holds_ref(const json& v) {
  if (is_ref(v)) return true;
  if (v.is_structured())
    for (const auto& m : v)
      if (holds_ref(m)) return true;
  return false;
}

json make_ref(const std::string& id, std::size_t bytes) { return json{{"$blob", id}, {"bytes", bytes}}; }

json externalize(const json& v, std::size_t threshold, std::vector<stored>& out) {
  bool changed = false;
  return aside(v, threshold, out, changed);
}

json keep_whole(const json& form, std::vector<stored>& out) {
  if (is_ref(form)) return form;
  auto text = dump(form);
  auto bytes = text.size() + hidden_bytes(form);
  return keep(std::move(text), bytes, out);
}

expected<json> resolve(const json& v, const std::function<std::optional<std::string>(const std::string&)>& fetch,
                       bool keep_missing) {
  if (is_ref(v)) {
    const auto& id = v["$blob"].get_ref<const std::string&>();
    auto text = fetch(id);
    if (!text && keep_missing) return v;
    if (!text) return make_error(codes::not_found, "no blob '" + id + "'");
    if (id_of(*text) != id) return make_error(codes::store_error, "blob '" + id + "' does not hold what its id says");
    auto parsed = json::parse(*text, nullptr, false);
    if (parsed.is_discarded()) return make_error(codes::store_error, "blob '" + id + "' is not JSON");
    return resolve(parsed, fetch, keep_missing);  // a blob may hold references to smaller ones
  }
  if (!v.is_structured()) return v;
  json out = v.is_object() ? json::object() : json::array();
  for (auto it = v.begin(); it != v.end(); ++it) {
    auto m = resolve(*it, fetch, keep_missing);
    if (!m) return m.error();
    if (v.is_object()) {
      out[it.key()] = std::move(*m);
    } else {
      out.push_back(std::move(*m));
    }
  }
  return out;
}

}  // namespace coworker::blob

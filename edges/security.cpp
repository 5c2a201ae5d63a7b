// CURVE key pairs and key files (include/coworker/security.hpp).
#include "coworker/security.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <zmq.h>

namespace coworker {

bool curve_available() { return zmq_has("curve") == 1; }

expected<curve_keypair> make_curve_keypair() {
  if (!curve_available()) return make_error(codes::no_curve, "this libzmq was built without CURVE");
  char pub[41] = {}, sec[41] = {};
  if (zmq_curve_keypair(pub, sec) != 0)
    return make_error(codes::no_curve, std::string("zmq_curve_keypair failed: ") + zmq_strerror(zmq_errno()));
  return curve_keypair{pub, sec};
}

bool is_curve_key(const std::string& text) {
  if (text.size() != 40) return false;
  std::uint8_t bytes[32];
  return zmq_z85_decode(bytes, text.c_str()) != nullptr;
}

expected<std::string> curve_public_key(const std::string& secret_key) {
  if (!curve_available()) return make_error(codes::no_curve, "this libzmq was built without CURVE");
  if (!is_curve_key(secret_key))
    return make_error(codes::invalid_input, "not a CURVE key (40 characters of Z85 expected)");
  char pub[41] = {};
  if (zmq_curve_public(pub, secret_key.c_str()) != 0)
    return make_error(codes::invalid_input, std::string("zmq_curve_public failed: ") + zmq_strerror(zmq_errno()));
  return std::string(pub);
}

expected<std::vector<std::string>> parse_curve_keys(const std::string& text) {
  std::vector<std::string> keys;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream words(line);
    std::string first;
    if (!(words >> first)) continue;  // blank
    // '#' is a Z85 digit too, but never the first of a key (84 * 85^4 does not fit in 32 bits).
    if (is_curve_key(first)) {
      keys.push_back(first);
      continue;
    }
    if (first[0] == '#') continue;
    return make_error(codes::invalid_input, "line " + std::to_string(number) +
                                                " is neither a CURVE key (40 characters of Z85) nor a # comment");
  }
  return keys;
}

namespace {

expected<std::string> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(codes::invalid_input, "cannot read key file '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

expected<std::string> read_curve_key_file(const std::string& path) {
  auto text = slurp(path);
  if (!text) return text.error();
  auto keys = parse_curve_keys(*text);
  if (!keys) return make_error(codes::invalid_input, path + ": " + keys.error().message);
  if (keys->size() != 1)
    return make_error(codes::invalid_input,
                      path + ": " + std::to_string(keys->size()) + " keys where one was expected");
  return keys->front();
}

expected<std::string> read_curve_key(const std::string& key_or_file) {
  struct stat st;
  if (is_curve_key(key_or_file) && ::stat(key_or_file.c_str(), &st) != 0) return key_or_file;
  return read_curve_key_file(key_or_file);
}

expected<std::vector<std::string>> read_curve_key_list(const std::string& path) {
  auto text = slurp(path);
  if (!text) return text.error();
  auto keys = parse_curve_keys(*text);
  if (!keys) return make_error(codes::invalid_input, path + ": " + keys.error().message);
  if (keys->empty()) return make_error(codes::invalid_input, path + " holds no client keys");
  return keys;
}

}  // namespace coworker

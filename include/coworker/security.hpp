// CURVE keys for coworker::service and its clients (docs/security.md): generating key pairs and
// reading key files. Keys are Z85 text, 40 characters (ZeroMQ's printable form of 32 bytes).
#pragma once

#include <string>
#include <vector>

#include "coworker/error.hpp"

namespace coworker {

/// CURVE for every socket of a service (requests, events, workers). With a server secret key, a
/// client must speak CURVE with one of the allowed public keys or it gets nothing at all;
/// service::start() checks that at start-up and refuses to serve otherwise.
struct curve_config {
  std::string server_secret_key;                ///< Z85; empty: no CURVE (anyone who connects is served)
  std::vector<std::string> allowed_client_keys;  ///< Z85 client public keys; must not be empty with CURVE
  bool enabled() const { return !server_secret_key.empty(); }
};

struct curve_keypair {
  std::string public_key;  ///< Z85: give it away (the server's to clients, a client's to the allow-list)
  std::string secret_key;  ///< Z85: keep it private
};

/// Whether this libzmq was built with CURVE (libsodium or tweetnacl).
bool curve_available();

/// A fresh key pair (zmq_curve_keypair); an error when libzmq has no CURVE.
expected<curve_keypair> make_curve_keypair();

/// The public key of a Z85 secret key (zmq_curve_public); an error names what is wrong with it.
expected<std::string> curve_public_key(const std::string& secret_key);

/// Whether `text` is a Z85 key: 40 characters that decode to 32 bytes.
bool is_curve_key(const std::string& text);

/// The keys in a key file's text: the first word of each line that is a Z85 key (the rest of the
/// line is a label). Blank lines and lines starting with '#' are comments; any other line is an
/// error naming its number.
expected<std::vector<std::string>> parse_curve_keys(const std::string& text);

/// The one key of a key file (as written by `coworker keygen`): an error unless it holds exactly one.
expected<std::string> read_curve_key_file(const std::string& path);

/// `key_or_file` itself when it is a Z85 key and no file of that name exists, else the key in that file.
expected<std::string> read_curve_key(const std::string& key_or_file);

/// An allow-list file: one Z85 key per line, comments allowed (parse_curve_keys); an error when it
/// holds none.
expected<std::vector<std::string>> read_curve_key_list(const std::string& path);

}  // namespace coworker

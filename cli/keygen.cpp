// `coworker keygen`: a CURVE key pair for the daemon or for a client (docs/security.md).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "commands.hpp"
#include "coworker/security.hpp"

namespace coworker::cli {

namespace {

struct keygen_args {
  std::string out;
  bool force = false;
};

/// Writes `text` to a new file with `mode` (an existing one only with --force); returns an error text.
std::string write_file(const std::string& path, const std::string& text, mode_t mode, bool force) {
  int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (force ? 0 : O_EXCL);
  int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0)
    return errno == EEXIST ? path + " exists (--force overwrites it)" : "cannot write " + path + ": " + std::strerror(errno);
  // An existing file keeps its mode through O_TRUNC: a secret key must not stay readable by others.
  bool ok = ::fchmod(fd, mode) == 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::close(fd) == 0 && ok;
  return ok ? std::string() : "cannot write " + path + ": " + std::strerror(errno);
}

int keygen(const keygen_args& a) {
  auto pair = make_curve_keypair();
  if (!pair) return std::fprintf(stderr, "coworker: %s\n", pair.error().message.c_str()), 2;
  if (a.out.empty()) {
    std::printf("public %s\nsecret %s\n", pair->public_key.c_str(), pair->secret_key.c_str());
    return 0;
  }
  const auto key_file = a.out + ".key", pub_file = a.out + ".pub";
  auto err = write_file(key_file,
                        "# coworker CURVE secret key: keep it private (mode 0600).\n# public " + pair->public_key +
                            "\n" + pair->secret_key + "\n",
                        0600, a.force);
  if (err.empty())
    err = write_file(pub_file, "# coworker CURVE public key: give it to whoever must know you.\n" + pair->public_key + "\n",
                     0644, a.force);
  if (!err.empty()) return std::fprintf(stderr, "coworker: %s\n", err.c_str()), 2;
  std::printf("wrote %s (secret, mode 0600) and %s\npublic %s\n", key_file.c_str(), pub_file.c_str(),
              pair->public_key.c_str());
  return 0;
}

}  // namespace

void add_keygen_command(CLI::App& app, dispatch& d) {
  auto a = std::make_shared<keygen_args>();
  auto* cmd = app.add_subcommand("keygen", "Make a CURVE key pair (Z85) for the daemon or a client");
  cmd->add_option("--out", a->out, "write PREFIX.key (secret, mode 0600) and PREFIX.pub instead of printing");
  cmd->add_flag("--force", a->force, "overwrite existing files");
  cmd->callback([a, &d] { d.run = [a] { return keygen(*a); }; });
}

}  // namespace coworker::cli

#!/usr/bin/env bash
# Installs the Debian 12 packages coworker builds and tests with, when they are missing.
# Idempotent: does nothing when everything is there. Needs root or sudo.
#   COWORKER_DEPS=build: only what building the program needs (scripts/demo.sh), not the test tools.
set -euo pipefail

packages=(build-essential cmake pkg-config libcaf-dev nlohmann-json3-dev libzmq3-dev cppzmq-dev
          libsqlite3-dev libspdlog-dev libcli11-dev libcpp-httplib-dev
          libgoogle-perftools-dev libsodium-dev libcctz-dev libpq-dev tzdata)
if [[ "${COWORKER_DEPS:-all}" != build ]]; then
  # lld: the test command's four builds link ~30 programs, each in under a second instead of ~15 s.
  packages+=(libboost-test-dev python3 python3-zmq sqlite3 chromium chromium-driver python3-selenium clang
             libclang-rt-14-dev lld python3-pip python3-setuptools postgresql-15)
  # The Node client's test needs Node.js (18 or later) and npm: the machine's own when it has them.
  command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0

echo "coworker: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "coworker: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

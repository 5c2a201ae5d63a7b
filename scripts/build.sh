#!/usr/bin/env bash
# Installs what is missing, configures and builds coworker with -j2.
#   BUILD_DIR (default: build)   COWORKER_SANITIZE=ON for an ASan+UBSan build   BUILD_TYPE (RelWithDebInfo)
#   TARGETS: build only these (e.g. coworker_cli); CMAKE_ARGS: more -D options
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
build_dir=${BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DCOWORKER_SANITIZE="${COWORKER_SANITIZE:-OFF}" ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" -j"${JOBS:-2}" ${TARGETS:+--target $TARGETS}

#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo chain on the embedded default store.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR="$root/build" "$root/scripts/build.sh"
bin="$root/build/coworker"
echo
echo "== coworker validate examples/triage.json"
"$bin" validate "$root/examples/triage.json"
echo
echo "== coworker run examples/hello.json"
"$bin" run --ephemeral "$root/examples/hello.json"

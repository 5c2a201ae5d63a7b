#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo: the email triage chain of examples/ on the
# embedded default (a SQLite file; no server to start). It imports the example mailbox into a fresh
# database, runs the triage, and shows what it stored.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# Only the program, in a build directory of its own: no test tools to install, no tests to build
# (scripts/test.sh does those, in build/).
# Release: no debug info to write, the quickest build of the program.
COWORKER_DEPS=build TARGETS=coworker_cli BUILD_DIR="$root/build-demo" BUILD_TYPE=Release \
  CMAKE_ARGS="-DCOWORKER_BUILD_TESTS=OFF -DCOWORKER_BUILD_EXAMPLES=OFF -DCOWORKER_BUILD_BENCH=OFF" "$root/scripts/build.sh"
bin="$root/build-demo/coworker"
db="${COWORKER_DEMO_DB:-$root/build-demo/demo.db}"
rm -f "$db" "$db-wal" "$db-shm"
echo
echo "== coworker import Email examples/data/emails.json --db $db"
"$bin" import Email "$root/examples/data/emails.json" --db "$db"
echo
echo "== coworker run examples/triage.json --db $db"
"$bin" run "$root/examples/triage.json" --db "$db"
echo
echo "== what the triage stored"
"$bin" docs Notification --db "$db"
"$bin" docs Task --db "$db"
"$bin" docs Email --where '{"unread": true}' --db "$db"

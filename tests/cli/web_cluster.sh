#!/usr/bin/env bash
# The web view of one node following a cluster of three (tests/e2e/web_cluster.py, docs/web.md, "A
# cluster") in Debian's headless Chromium, over the test run's own PostgreSQL server (the
# postgres_server fixture, tests/CMakeLists.txt). Leaves web_cluster.png in $COWORKER_ARTIFACTS
# (default: the working directory, build/tests under ctest).
set -euo pipefail
url=$(cat "${COWORKER_POSTGRES_STATE:?the postgres_server fixture sets it}/url")
artifacts=${COWORKER_ARTIFACTS:-$PWD}
mkdir -p "$artifacts"
command -v chromium >/dev/null || { echo "FAIL: chromium is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
exec timeout 200 "${COWORKER_PYTHON:-/usr/bin/python3}" "$2/tests/e2e/web_cluster.py" "$1" "$url" "$artifacts/web_cluster.png"

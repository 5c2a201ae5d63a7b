#!/usr/bin/env bash
# Three daemons over one PostgreSQL database (tests/e2e/cluster_failover.py, docs/cluster.md): kill -9
# one mid-way through 1,000 chains, pause one past its lease. The server is the test run's own (the
# postgres_server fixture, tests/CMakeLists.txt).
set -euo pipefail
url=$(cat "${COWORKER_POSTGRES_STATE:?the postgres_server fixture sets it}/url")
exec timeout 280 "${COWORKER_PYTHON:-/usr/bin/python3}" "$2/tests/e2e/cluster_failover.py" "$1" "$url"

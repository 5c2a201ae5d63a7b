#!/usr/bin/env bash
# The PostgreSQL server restarts (every connection cut) under a running daemon: it reconnects and goes
# on (tests/e2e/postgres_restart.py). The server is one of its own: the test restarts it.
set -euo pipefail
exec timeout 280 "${COWORKER_PYTHON:-/usr/bin/python3}" "$2/tests/e2e/postgres_restart.py" "$1" "$2"

#!/usr/bin/env bash
# A daemon's RSS over 10,000 chains in memory and on a file, and the oldest chain after a restart.
set -euo pipefail
exec timeout 280 "${COWORKER_PYTHON:-/usr/bin/python3}" "$2/tests/e2e/long_life.py" "$1"

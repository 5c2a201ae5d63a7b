#!/usr/bin/env bash
# Hostile worker frames, request frames and raw HTTP requests against a real `coworker serve`,
# each on a fresh connection, the daemon answering `ping` after each; then a real worker serves a
# chain (tests/e2e/hostile_input.py).
set -euo pipefail
cd "$2/tests/e2e"
exec timeout 280 "${COWORKER_PYTHON:-/usr/bin/python3}" "$2/tests/e2e/hostile_input.py" "$1" "$2"

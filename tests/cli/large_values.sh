#!/usr/bin/env bash
# Large values by reference through a real `coworker serve` and a pyzmq client (tests/e2e/large_values.py).
set -euo pipefail
cd "$2/tests/e2e"
exec timeout 280 "${COWORKER_PYTHON:-/usr/bin/python3}" "$2/tests/e2e/large_values.py" "$1" "$2"

#!/usr/bin/env bash
# Redrive through a real daemon from pyzmq, over HTTP and from `coworker redrive` (tests/e2e/redrive.py).
set -euo pipefail
exec timeout 300 "${COWORKER_PYTHON:-/usr/bin/python3}" "$2/tests/e2e/redrive.py" "$1"

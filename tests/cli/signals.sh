#!/usr/bin/env bash
# await steps and signals through a real daemon from pyzmq, across kill -9 and SIGTERM (tests/e2e/signals.py).
set -euo pipefail
exec timeout 300 "${COWORKER_PYTHON:-/usr/bin/python3}" "$2/tests/e2e/signals.py" "$1"

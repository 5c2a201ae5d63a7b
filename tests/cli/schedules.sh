#!/usr/bin/env bash
# Schedules (everyMs, overlap skip, pause, kill -9) and delayed starts through a real daemon from pyzmq (tests/e2e/schedules.py).
set -euo pipefail
exec timeout 300 "${COWORKER_PYTHON:-/usr/bin/python3}" "$2/tests/e2e/schedules.py" "$1"

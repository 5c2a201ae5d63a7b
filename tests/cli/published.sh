#!/usr/bin/env bash
# Published chains through a real daemon from pyzmq, HTTP and the CLI, across kill -9 (tests/e2e/published.py).
set -euo pipefail
exec timeout 300 "${COWORKER_PYTHON:-/usr/bin/python3}" "$2/tests/e2e/published.py" "$1"

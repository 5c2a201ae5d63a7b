#!/usr/bin/env bash
# kill -9 a busy daemon, restart it, check nothing was lost or run twice (3 rounds).
set -euo pipefail
exec timeout 300 "${COWORKER_PYTHON:-/usr/bin/python3}" "$2/tests/e2e/crash_resume.py" "$1" 3

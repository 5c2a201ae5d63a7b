#!/usr/bin/env bash
# A real full disk (a tmpfs this test mounts) under a durable daemon: nothing acknowledged or
# published that is not stored; `unavailable` while full; everything held completes once space returns.
set -euo pipefail
exec timeout 240 "${COWORKER_PYTHON:-/usr/bin/python3}" "$2/tests/e2e/full_disk.py" "$1"

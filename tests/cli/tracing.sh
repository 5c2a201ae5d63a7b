#!/usr/bin/env bash
# Trace context and OTLP span export through a real daemon and `coworker run` (tests/e2e/tracing.py).
set -euo pipefail
exec timeout 300 "${COWORKER_PYTHON:-/usr/bin/python3}" "$2/tests/e2e/tracing.py" "$1"

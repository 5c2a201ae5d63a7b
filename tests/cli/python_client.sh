#!/usr/bin/env bash
# The Python client package (clients/python) against a real daemon, across kill -9 (tests/e2e/python_client.py).
set -euo pipefail
exec timeout 300 "${COWORKER_PYTHON:-/usr/bin/python3}" "$2/tests/e2e/python_client.py" "$1" "$2/clients/python"

#!/usr/bin/env bash
# The kill -9 crash test (tests/e2e/crash_resume.py) on a PostgreSQL store: the daemon killed while
# 300 chains run, restarted on the same database; nothing lost or run twice (2 rounds). The server
# is the test run's own (the postgres_server fixture, tests/CMakeLists.txt).
set -euo pipefail
url=$(cat "${COWORKER_POSTGRES_STATE:?the postgres_server fixture sets it}/url")
exec timeout 300 "${COWORKER_PYTHON:-/usr/bin/python3}" "$2/tests/e2e/crash_resume.py" "$1" 2 "$url"

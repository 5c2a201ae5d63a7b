#!/usr/bin/env bash
# The Node client (clients/node) against a real daemon: installed from the npm registry with its lock
# file (npm ci), then node's own test runner (clients/node/test/*.test.js: one daemon; two, followed as a cluster).
set -euo pipefail
cd "$2/clients/node"
timeout 300 npm ci --no-audit --no-fund --loglevel=error
COWORKER_BIN="$1" exec timeout 300 node --test test/*.test.js

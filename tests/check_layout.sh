#!/usr/bin/env bash
# src/ is plain C++: no CAF and no ZeroMQ includes (STYLE.md: a line of code should know its room).
set -euo pipefail
root=${1:-.}
if grep -rnE '#include\s*[<"](caf/|zmq)' "$root/src"; then
  echo "layout: src/ must not include CAF or ZeroMQ headers (move the code to actors/)" >&2
  exit 1
fi
echo "layout: ok"

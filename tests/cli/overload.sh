#!/usr/bin/env bash
# Overload: 2 × 20,000 `run` requests as fast as one client sends them to a real `coworker serve`
# (durable, concurrent runs limited to 300): each gets a run or `busy`, memory stays bounded, the
# daemon keeps answering; a `run` retried with its idempotency key after a lost reply starts one run.
set -euo pipefail
bin=$1
root=$2
tmp=$(mktemp -d)
PY=${COWORKER_PYTHON:-/usr/bin/python3}
fail() { echo "FAIL: $*" >&2; tail -n 30 "$tmp/serve.log" >&2 || true; exit 1; }
cleanup() { [[ -n ${serve_pid:-} ]] && kill -9 "$serve_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
read -r p1 p2 < <("$PY" -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
req=tcp://127.0.0.1:$p1 ev=tcp://127.0.0.1:$p2
cat >"$tmp/config.json" <<'JSON'
{"limits": {"concurrentRuns": 300}, "retainChains": 2000, "retainStoredChains": 2000}
JSON
"$bin" serve --config "$tmp/config.json" --db "$tmp/overload.db" --requests "$req" --events "$ev" \
  --workers none 2>"$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 100); do grep -qs "requests on $req" "$tmp/serve.log" && break; sleep 0.1; done
grep -q "requests on $req" "$tmp/serve.log" || fail "serve did not start"

timeout 280 "$PY" "$root/tests/e2e/overload.py" "$req" "$serve_pid" || fail "overload.py"
kill -0 "$serve_pid" 2>/dev/null || fail "the daemon died"
kill -TERM "$serve_pid"
for _ in $(seq 100); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$serve_pid" 2>/dev/null && fail "the daemon did not stop within 10 s of SIGTERM"
wait "$serve_pid" || fail "the daemon exited with $?"
serve_pid=
echo "overload.sh: ok"

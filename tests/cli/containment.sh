#!/usr/bin/env bash
# Containment through the daemon: a remote worker that allocates without end dies (its memory capped
# as a deployment would cap it); its step fails with worker_lost, the daemon's own memory does not
# move, and other chains keep running, before and after.
set -euo pipefail
bin=$1
root=$2
tmp=$(mktemp -d)
PY=${COWORKER_PYTHON:-/usr/bin/python3}
pids=()
fail() { echo "FAIL: $*" >&2; tail -n 20 "$tmp"/*.log >&2 || true; exit 1; }
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
read -r p1 p2 p3 < <("$PY" -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
req=tcp://127.0.0.1:$p1 ev=tcp://127.0.0.1:$p2 wk=tcp://127.0.0.1:$p3

"$bin" serve --ephemeral --requests "$req" --events "$ev" --workers "$wk" 2>"$tmp/serve.log" &
serve=$!; pids+=($serve)
for _ in $(seq 50); do grep -q "workers on $wk" "$tmp/serve.log" && break; sleep 0.1; done
"$PY" "$root/tests/e2e/hog_worker.py" "$wk" >"$tmp/hog.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q serving "$tmp/hog.log" && break; sleep 0.1; done
grep -q serving "$tmp/hog.log" || fail "the hog worker did not connect"
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$serve/status"; }
before=$(rss)

cat >"$tmp/hog.json" <<'JSON'
{"operation":"run","children":[
  {"id":"g","parallel":["h","fine"],"options":{"failFast":false},"operations":[
    {"id":"h","operation":"hog","input":{}},
    {"id":"fine","operation":"wait","input":{"ms":50}}]}]}
JSON
out=$(timeout 60 "$PY" "$root/examples/python/submit.py" "$tmp/hog.json" --wait --requests "$req") && fail "the hog chain succeeded: $out"
"$PY" - "$out" <<'PY' || fail "hog chain: $out"
import json, sys
r = json.loads(sys.argv[1])
def find(t, sid):
    if t.get("stepId") == sid: return t
    for c in t.get("children", []):
        f = find(c, sid)
        if f: return f
t = r["tree"]
assert r["status"] == "failed", r["status"]
assert find(t, "h")["error"]["code"] == "worker_lost", find(t, "h")["error"]
assert find(t, "fine")["status"] == "completed"
PY
grep -q MemoryError "$tmp/hog.log" || fail "the worker did not die of MemoryError"
after=$(rss)
(( after < before + 32 * 1024 )) || fail "daemon RSS went from $before KiB to $after KiB"
timeout 30 "$PY" "$root/examples/python/submit.py" "$root/examples/hello.json" --wait --requests "$req" >/dev/null \
  || fail "the daemon stopped serving after the worker died"
echo "containment.sh: ok (daemon RSS $before KiB -> $after KiB)"

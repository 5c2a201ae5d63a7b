#!/usr/bin/env bash
# `coworker serve` as a real process with the Python examples (examples/python, on clients/python):
# a watcher sees every event with no gap, submit works with and without --wait, bad chains get
# located errors, and SIGTERM with runs in flight exits cleanly, leaving them stored to resume.
set -euo pipefail
bin=$1
root=$2
tmp=$(mktemp -d)
fail() { echo "FAIL: $*" >&2; [[ -f $tmp/serve.log ]] && cat "$tmp/serve.log" >&2; exit 1; }
cleanup() { [[ -n ${serve_pid:-} ]] && kill -9 "$serve_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

read -r req_port ev_port < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
req=tcp://127.0.0.1:$req_port
ev=tcp://127.0.0.1:$ev_port
py=$root/examples/python
# Debian's python3 has python3-zmq (scripts/install-deps.sh); a python3 earlier on PATH may not.
python3() { "${COWORKER_PYTHON:-/usr/bin/python3}" "$@"; }
export -f python3 2>/dev/null || true

"$bin" serve --db "$tmp/serve.db" --requests "$req" --events "$ev" --workers none 2>"$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 50); do grep -q "requests on" "$tmp/serve.log" && break; sleep 0.1; done
grep -q "requests on $req" "$tmp/serve.log" || fail "serve did not say where it listens"

# `coworker watch` shows the snapshot, then the live tree.
timeout 90 "$bin" watch --requests "$req" --events "$ev" >"$tmp/cw.out" 2>&1 &
cw_pid=$!
sleep 1

# 20 chains of 3 runs: 120 events, watched from before the first one.
timeout 60 "${COWORKER_PYTHON:-/usr/bin/python3}" "$py/watch.py" --events "$ev" --requests "$req" --count 120 >"$tmp/watch.out" &
watch_pid=$!
sleep 1
for i in $(seq 20); do
  timeout 20 "${COWORKER_PYTHON:-/usr/bin/python3}" "$py/submit.py" "$root/examples/hello.json" --requests "$req" >/dev/null || fail "submit $i"
done
wait "$watch_pid" || fail "watch.py did not see 120 events: $(tail -3 "$tmp/watch.out")"
tail -1 "$tmp/watch.out" | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["events"]==120 and r["gaps"]==0, r' \
  || fail "watch.py saw gaps: $(tail -1 "$tmp/watch.out")"

# coworker watch runs until it has shown the 20 chains (it flushes every line), or 60 s have passed:
# a fixed timeout failed on a loaded CI machine where 20 Python start-ups took longer than it.
for _ in $(seq 600); do
  (( $(grep -c "✓ hello (run)" "$tmp/cw.out" || true) >= 20 )) && break
  sleep 0.1
done
kill "$cw_pid" 2>/dev/null || true
wait "$cw_pid" 2>/dev/null || true
grep -q "^-- snapshot at seq" "$tmp/cw.out" || fail "coworker watch showed no snapshot: $(head -3 "$tmp/cw.out")"
[[ $(grep -c "✓ hello (run)" "$tmp/cw.out") == 20 ]] || fail "coworker watch did not show 20 finished chains: $(tail -5 "$tmp/cw.out")"
grep -q "^  ✓ greet (message)" "$tmp/cw.out" || fail "coworker watch did not indent the steps"

out=$(timeout 20 "${COWORKER_PYTHON:-/usr/bin/python3}" "$py/submit.py" "$root/examples/hello.json" --wait --requests "$req") || fail "submit --wait"
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["status"]=="completed" and r["tree"]["children"][0]["output"]["text"]=="Hello, world!", r' "$out" \
  || fail "submit --wait reply: $out"

# The C++ client example, built beside the coworker binary.
client=$(dirname "$bin")/examples/example_client
if [[ -x $client ]]; then
  out=$("$client" "$req" <"$root/examples/hello.json") || fail "example_client: $out"
  grep -q "completed" <<<"$out" || fail "example_client printed: $out"
fi

echo '{"operation":"run","children":[{"id":"a","operation":"log","input":"{{ghost.output}}"}]}' >"$tmp/bad.json"
set +e
out=$(timeout 20 "${COWORKER_PYTHON:-/usr/bin/python3}" "$py/submit.py" "$tmp/bad.json" --requests "$req"); code=$?
set -e
[[ $code == 2 ]] || fail "bad chain: exit $code"
grep -q '"path": "/chain/children/0/input"' <<<"$out" || fail "bad chain error has no path: $out"

# Runs in flight, then SIGTERM: exit 0 within 10 s, the runs left as stored, to resume at the next
# start (a durable daemon no longer cancels them; tests/e2e/signals.py restarts one and finishes it).
echo '{"operation":"run","children":[{"operation":"wait","input":{"ms":60000}}]}' >"$tmp/slow.json"
for i in 1 2 3; do timeout 20 "${COWORKER_PYTHON:-/usr/bin/python3}" "$py/submit.py" "$tmp/slow.json" --requests "$req" >/dev/null; done
sleep 0.3
start=$(date +%s)
kill -TERM "$serve_pid"
wait "$serve_pid" || fail "serve exited $? on SIGTERM"
serve_pid=
(( $(date +%s) - start <= 10 )) || fail "serve took more than 10 s to stop"
grep -q "leaving 3 chains in flight to resume" "$tmp/serve.log" || fail "serve did not report the runs in flight"
n=$(python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("select count(*) from runs where owner is null and status=\"running\"").fetchone()[0],
      db.execute("select count(*) from chains where ended=0").fetchone()[0])' "$tmp/serve.db")
[[ $n == "3 3" ]] || fail "$n chains still running and stored to resume, want 3 3"
echo "python service: ok"

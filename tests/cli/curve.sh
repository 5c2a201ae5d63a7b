#!/usr/bin/env bash
# `coworker serve` with CURVE and an allow-list (docs/security.md): keys from `coworker keygen`; an
# allowed key submits, watches events and serves as a worker (the Python examples and the coworker
# client commands); a plain client and a key that is not allowed get nothing on requests or events.
set -euo pipefail
bin=$1
root=$2
tmp=$(mktemp -d)
fail() { echo "FAIL: $*" >&2; [[ -f $tmp/serve.log ]] && cat "$tmp/serve.log" >&2; exit 1; }
cleanup() {
  [[ -n ${worker_pid:-} ]] && kill -9 "$worker_pid" 2>/dev/null
  [[ -n ${serve_pid:-} ]] && kill -9 "$serve_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
# Debian's python3 has python3-zmq (scripts/install-deps.sh); a python3 earlier on PATH may not.
py=${COWORKER_PYTHON:-/usr/bin/python3}
ex=$root/examples/python

# Keys: the daemon's, two allowed clients (alice submits and watches, bob is a worker), one stranger.
for who in server alice bob mallory; do
  "$bin" keygen --out "$tmp/$who" >/dev/null || fail "keygen $who"
done
[[ $(stat -c %a "$tmp/server.key") == 600 ]] || fail "the secret key is not mode 0600"
if "$bin" keygen --out "$tmp/alice" 2>"$tmp/err"; then fail "keygen overwrote a key"; fi
grep -q "exists" "$tmp/err" || fail "keygen over an existing key: $(cat "$tmp/err")"
"$bin" keygen | grep -qE '^secret .{40}$' || fail "keygen without --out prints no key pair"
{ echo "# the allow-list: one public key per line"; grep -v '^#' "$tmp/alice.pub"; echo
  echo "$(grep -v '^#' "$tmp/bob.pub") bob's worker"; } >"$tmp/allowed"

# One flag without the other is an error, not an open daemon.
set +e
"$bin" serve --ephemeral --curve-secret "$tmp/server.key" 2>"$tmp/err"; code=$?
set -e
[[ $code == 2 ]] && grep -q "needs --curve-allow" "$tmp/err" || fail "--curve-secret alone: exit $code, $(cat "$tmp/err")"

read -r req_port ev_port wk_port < <("$py" -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
req=tcp://127.0.0.1:$req_port
ev=tcp://127.0.0.1:$ev_port
wk=tcp://127.0.0.1:$wk_port
"$bin" serve --ephemeral --requests "$req" --events "$ev" --workers "$wk" \
  --curve-secret "$tmp/server.key" --curve-allow "$tmp/allowed" 2>"$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 100); do grep -q "requests on" "$tmp/serve.log" && break; sleep 0.1; done
grep -q "requests on $req" "$tmp/serve.log" || fail "serve did not start"
grep -q "2 allowed client keys.*self-check passed" "$tmp/serve.log" || fail "serve did not report its CURVE self-check"

alice=(--curve-server-key "$tmp/server.pub" --curve-key "$tmp/alice.key")
mallory=(--curve-server-key "$tmp/server.pub" --curve-key "$tmp/mallory.key")

# Allowed: watch.py sees the 4 events of one chain submitted by submit.py (keys from the environment).
timeout 20 "$py" "$ex/watch.py" --events "$ev" --requests "$req" --count 4 --timeout 10 "${alice[@]}" >"$tmp/watch.out" &
watch_pid=$!
sleep 0.5
COWORKER_CURVE_SERVER_KEY=$(grep -v '^#' "$tmp/server.pub") COWORKER_CURVE_KEY=$tmp/alice.key \
  timeout 20 "$py" "$ex/submit.py" "$root/examples/hello.json" --requests "$req" >/dev/null || fail "allowed submit.py"
wait "$watch_pid" || fail "allowed watch.py: $(tail -3 "$tmp/watch.out")"
tail -1 "$tmp/watch.out" | grep -q '"events": 4, "gaps": 0' || fail "allowed watch.py saw: $(tail -1 "$tmp/watch.out")"

# Allowed: the coworker client commands, and a Python worker with bob's key.
out=$(timeout 20 "$bin" submit "$root/examples/hello.json" --wait --requests "$req" "${alice[@]}") || fail "coworker submit: $out"
grep -q '"status": "completed"' <<<"$out" || fail "coworker submit --wait printed: $out"
timeout 20 "$bin" runs --requests "$req" "${alice[@]}" | grep -q "completed" || fail "coworker runs with a key"
timeout 30 "$py" "$ex/worker.py" --workers "$wk" --name w1 --curve-server-key "$tmp/server.pub" \
  --curve-key "$tmp/bob.key" >"$tmp/worker.out" 2>&1 &
worker_pid=$!
echo '{"operation":"run","children":[{"id":"c","operation":"classify","input":"an invoice"}]}' >"$tmp/classify.json"
for _ in $(seq 100); do grep -qs "serving" "$tmp/worker.out" && break; sleep 0.1; done
out=$(timeout 20 "$py" "$ex/submit.py" "$tmp/classify.json" --wait --requests "$req" "${alice[@]}") || fail "classify via bob's worker: $out"
grep -q '"label": "billing"' <<<"$out" || fail "bob's worker did not serve: $out"
kill "$worker_pid"
wait "$worker_pid" 2>/dev/null || true
worker_pid=

# Refused: a plain client and mallory get no reply (submit.py exits 3 on a timeout) ... (in the
# background, while the subscribers below wait)
refused() {  # name, then the command
  local name=$1
  shift
  set +e
  timeout 20 "$@" >/dev/null 2>"$tmp/$name.err"
  echo $? >"$tmp/$name.code"
}
refused plain "$py" "$ex/submit.py" "$root/examples/hello.json" --requests "$req" --timeout 1 &
pids=($!)
refused mallory "$py" "$ex/submit.py" "$root/examples/hello.json" --requests "$req" --timeout 1 "${mallory[@]}" &
pids+=($!)
refused runs "$bin" runs --requests "$req" --timeout 1000 &
pids+=($!)

# ... and no events, while alice's subscriber gets heartbeats (every 500 ms) in the same second.
got=$(timeout 20 "$py" - "$ev" "$tmp/server.pub" "$tmp/alice.key" "$tmp/mallory.key" "$root/clients/python" <<'EOF'
import json, sys, time
import zmq
sys.path.insert(0, sys.argv[5])
from coworker_client._socket import secure  # CURVE options on a raw socket, as Client and Worker set them
ep, server, alice, mallory = sys.argv[1:5]
ctx = zmq.Context()
poller, subs = zmq.Poller(), {}
for name, key in (("alice", alice), ("plain", None), ("mallory", mallory)):
    s = ctx.socket(zmq.SUB)
    s.linger = 0
    secure(s, (server, key) if key else None)
    s.subscribe(b"")
    s.connect(ep)
    poller.register(s, zmq.POLLIN)
    subs[s] = name
got = {name: 0 for name in subs.values()}
end = time.time() + 1.2
while time.time() < end:
    for s, _ in poller.poll(50):
        s.recv_multipart()
        got[subs[s]] += 1
print(json.dumps(got))
EOF
) || fail "the event subscribers"
"$py" -c 'import json,sys; g=json.loads(sys.argv[1]); assert g["alice"] > 0 and g["plain"] == 0 and g["mallory"] == 0, g' "$got" \
  || fail "events: $got"

wait "${pids[@]}"
for who in plain mallory; do
  [[ $(cat "$tmp/$who.code") == 3 ]] || fail "$who submit.py: exit $(cat "$tmp/$who.code"), $(cat "$tmp/$who.err")"
done
[[ $(cat "$tmp/runs.code") == 1 ]] && grep -q "Does it require CURVE keys" "$tmp/runs.err" \
  || fail "plain coworker runs: exit $(cat "$tmp/runs.code"), $(cat "$tmp/runs.err")"

prefix=$(grep -v '^#' "$tmp/mallory.pub" | cut -c1-8)
grep -qF "on coworker.requests (key $prefix" "$tmp/serve.log" || fail "mallory's refusal on requests was not logged"
grep -qF "on coworker.events (key $prefix" "$tmp/serve.log" || fail "mallory's refusal on events was not logged"

kill -TERM "$serve_pid"
wait "$serve_pid" || fail "serve exited $? on SIGTERM"
serve_pid=
echo "curve: ok"

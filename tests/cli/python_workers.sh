#!/usr/bin/env bash
# Remote workers in Python: a chain with a parallel group uses `classify` served by a worker; two
# workers share 200 tasks; a worker killed with kill -9 mid-task loses its tasks to the other; a
# worker that answers garbage harms nothing; an operation nobody serves is refused.
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

"$bin" serve --ephemeral --requests "$req" --events "$ev" --workers "$wk" --route-to-workers summarize 2>"$tmp/serve.log" &
pids+=($!)
for _ in $(seq 50); do grep -q "workers on $wk" "$tmp/serve.log" && break; sleep 0.1; done
submit() { timeout 60 "$PY" "$root/examples/python/submit.py" "$@" --requests "$req"; }

# Nobody serves classify yet: refused as unknown_operation.
cat >"$tmp/group.json" <<'JSON'
{"operation":"run","input":{"subject":"Invoice 42 overdue"},"children":[
  {"parallel":["c1","c2"],"id":"g","operations":[
    {"id":"c1","operation":"classify","input":"{{input.subject}}"},
    {"id":"c2","operation":"classify","input":"lunch on friday?"}]}]}
JSON
set +e; out=$(submit "$tmp/group.json"); code=$?; set -e
[[ $code == 2 ]] && grep -q unknown_operation <<<"$out" || fail "classify without workers: $out"

"$PY" "$root/examples/python/worker.py" --workers "$wk" --name w1 --delay-ms 20 >"$tmp/w1.log" 2>&1 &
w1=$!; pids+=($w1)
"$PY" "$root/examples/python/worker.py" --workers "$wk" --name w2 --delay-ms 20 >"$tmp/w2.log" 2>&1 &
w2=$!; pids+=($w2)
for _ in $(seq 50); do grep -q serving "$tmp/w1.log" && grep -q serving "$tmp/w2.log" && break; sleep 0.1; done

"$PY" - "$req" "$root/clients/python" <<'PY' || fail "classify is not listed in operations"
import sys; sys.path.insert(0, sys.argv[2])
from coworker_client import Client
ops = Client(sys.argv[1], timeout=10).call({"type": "operations"})["operations"]
assert any(o["name"] == "classify" and o.get("inputSchema") == {"type": "any"} for o in ops), ops
PY
out=$(submit "$tmp/group.json" --wait) || fail "group chain: $out"
"$PY" -c 'import json,sys; t=json.loads(sys.argv[1])["tree"]; o=t["children"][0]["output"]
assert o["c1"]["label"]=="billing" and o["c2"]["label"]=="social", o' "$out" || fail "group outputs: $out"

# 200 tasks shared by both workers.
"$PY" -c 'import json; print(json.dumps({"operation":"run","input":{"items":[f"bug {i}" for i in range(200)]},
  "children":[{"id":"each","forEach":"{{input.items}}","as":"x","do":{"operation":"classify","input":"{{x}}"}}]}))' >"$tmp/many.json"
submit "$tmp/many.json" --wait >"$tmp/many.out" || fail "200 tasks: $(head -c 300 "$tmp/many.out")"
"$PY" -c 'import json,sys,collections; t=json.load(open(sys.argv[1]))["tree"]; outs=t["children"][0]["output"]
assert len(outs)==200 and all(o["label"]=="support" for o in outs)
c=collections.Counter(o["worker"] for o in outs); assert c["w1"]>0 and c["w2"]>0, c; print("shared:", dict(c))' "$tmp/many.out" \
  || fail "the two workers did not share the tasks"

# kill -9 one worker mid-way: everything still finishes, on the other one.
"$PY" "$root/examples/python/worker.py" --workers "$wk" --name slow --delay-ms 2000 --capacity 50 >"$tmp/slow.log" 2>&1 &
slow=$!; pids+=($slow)
sleep 0.5
( submit "$tmp/many.json" --wait >"$tmp/failover.out" 2>&1; echo $? >"$tmp/failover.rc" ) &
sub_pid=$!
sleep 0.8
kill -9 "$slow"
wait "$sub_pid" || true
[[ $(cat "$tmp/failover.rc") == 0 ]] || fail "chain did not survive the killed worker: $(head -c 300 "$tmp/failover.out")"
"$PY" -c 'import json,sys; t=json.load(open(sys.argv[1]))["tree"]; outs=t["children"][0]["output"]
assert len(outs)==200 and not any(o["worker"]=="slow" for o in outs), [o["worker"] for o in outs][:5]
runs=t["children"][0]["children"]; assert any(r["attempts"] >= 2 for r in runs), "no run counted the lost worker"' "$tmp/failover.out" \
  || fail "tasks of the killed worker were not finished by the others"

# A worker answering garbage: ignored, the daemon keeps serving.
"$PY" - "$wk" <<'PY'
import json, sys, zmq
s = zmq.Context().socket(zmq.DEALER); s.setsockopt(zmq.LINGER, 0); s.connect(sys.argv[1])
s.send(b"not json"); assert s.poll(3000); assert json.loads(s.recv())["error"]["code"] == "bad_json"
s.send_json({"type": "result", "taskId": "task-999999", "output": 1})  # unknown: not registered
assert s.poll(3000); assert json.loads(s.recv())["error"]["code"] == "not_registered"
PY
out=$(submit "$tmp/group.json" --wait) || fail "daemon unhealthy after garbage: $out"

# A C++ worker (include/coworker/worker.hpp, examples/worker) serves `shout`.
cworker=$(dirname "$bin")/examples/example_worker
if [[ -x $cworker ]]; then
  "$cworker" "$wk" >"$tmp/cworker.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do
    timeout 5 "$PY" "$root/examples/python/submit.py" /dev/stdin --requests "$req" <<<'{"operation":"run","children":[{"operation":"shout","input":"hi"}]}' >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo '{"operation":"run","children":[{"id":"s","operation":"shout","input":"hello"}]}' >"$tmp/shout.json"
  out=$(submit "$tmp/shout.json" --wait) || fail "shout: $out"
  grep -q '"text": "HELLO!"' <<<"$out" || fail "C++ worker answer: $out"
fi

# summarize is routed to workers by configuration: built in until a worker serves it, then remote,
# then built in again when that worker is gone. The chain does not change.
echo '{"operation":"run","children":[{"id":"s","operation":"summarize","input":"One. Two."}]}' >"$tmp/sum.json"
out=$(submit "$tmp/sum.json" --wait) || fail "summarize: $out"
grep -q '"summary": "One. Two."' <<<"$out" || fail "built-in summarize: $out"
"$PY" "$root/examples/python/worker.py" --workers "$wk" --name s1 --summarize >"$tmp/s1.log" 2>&1 &
s1=$!; pids+=($s1)
for _ in $(seq 50); do grep -q serving "$tmp/s1.log" && break; sleep 0.1; done
out=$(submit "$tmp/sum.json" --wait) || fail "routed summarize: $out"
grep -q 'summarized remotely' <<<"$out" || fail "summarize was not routed to the worker: $out"
kill -9 "$s1"
sleep 4
out=$(submit "$tmp/sum.json" --wait) || fail "summarize after the worker left: $out"
grep -q '"summary": "One. Two."' <<<"$out" || fail "built-in summarize did not come back: $out"

# The last workers leave: classify is refused again.
kill -9 "$w1" "$w2"
sleep 4
set +e; out=$(submit "$tmp/group.json"); code=$?; set -e
[[ $code == 2 ]] && grep -q unknown_operation <<<"$out" || fail "classify after the workers left: $out"
# A worker that answers too late: the step fails with a clear timeout; its late answer is dropped.
"$PY" "$root/examples/python/worker.py" --workers "$wk" --name late --delay-ms 1500 >"$tmp/late.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q serving "$tmp/late.log" && break; sleep 0.1; done
echo '{"operation":"run","children":[{"id":"c","operation":"classify","input":"bug","options":{"timeoutMs":300}}]}' >"$tmp/late.json"
set +e; out=$(submit "$tmp/late.json" --wait); code=$?; set -e
[[ $code == 1 ]] || fail "late worker: exit $code: $out"
grep -q '"code": "timeout"' <<<"$out" || fail "late worker: no timeout error: $out"
sleep 1.5  # the late answer arrives and is ignored
out=$(timeout 10 "$PY" "$root/examples/python/submit.py" "$tmp/group.json" --wait --requests "$req") || fail "after a late answer: $out"
grep -q '"status": "completed"' <<<"$out" || fail "after a late answer: $out"
echo "python workers: ok"

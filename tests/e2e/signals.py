#!/usr/bin/env python3
"""await steps and signals through a real `coworker serve` (issue 18), from a pyzmq client:
an await signalled by key; a signal sent before its await starts; an invalid payload, then a valid
one; a timeout routed to onError; a daemon killed with kill -9 (and one stopped with SIGTERM) while
a run waits, restarted, then signalled; the same over HTTP (POST /api/signals, POST
/api/runs/{id}/signal).

    signals.py /path/to/coworker
"""
import signal
import sys
import time

from scratch import passed
from serve_harness import SAFETY, Run

T = Run(sys.argv[1], "signals")
fail, check = T.fail, T.check


def start():
    return T.start(["update:run "])


def waiting(d, step_id, chain_id):
    """The run id of step `step_id` of chain `chain_id` once its update:run event says it waits."""
    for run in d.runs(lambda r: r["stepId"] == step_id and r["chainId"] == chain_id and r["status"] == "waiting",
                      f"waiting {step_id}"):
        return run["id"]


def approval(i, extra=None):
    step = {"id": "approve", "operation": "await",
            "input": {"key": "invoice-{{input.id}}",
                      "schema": {"type": "object", "required": ["ok"],
                                 "properties": {"ok": {"type": "boolean"}, "by": {"type": "string", "minLength": 1}}}}}
    step.update(extra or {})
    return {"operation": "run", "input": {"id": i},
            "children": [step, {"id": "after", "operation": "log", "input": {"ok": "{{approve.output.ok}}"}}]}


def final(run_id):
    """The chain's tree once it ended (a `get` per event seen: no sleeping)."""
    deadline = time.time() + SAFETY
    while time.time() < deadline:
        r = daemon.call({"type": "get", "runId": run_id, "tree": True})
        if r["ok"] and r["run"]["status"] in ("completed", "failed", "cancelled"):
            return r["run"]
        daemon.sub.poll(200)  # the next event (or heartbeat) before asking again
        if daemon.sub.poll(0):
            daemon.sub.recv_multipart()
    fail(f"{run_id} did not end")


daemon = start()

# 1. Signalled by key: the step waits (update:run, status waiting), the signal is delivered to it.
r = daemon.call({"type": "run", "chain": approval(1)})
check(r["ok"], r)
chain1 = r["runId"]
step1 = waiting(daemon, "approve", chain1)
snap = daemon.call({"type": "snapshot"})
check(any(x["id"] == step1 and x["status"] == "waiting" for x in snap["runs"]), "the snapshot shows the waiting run")
got = daemon.call({"type": "list", "status": "waiting", "roots": False})
check([x["id"] for x in got["runs"]] == [step1], f"list status=waiting: {got}")
r = daemon.call({"type": "signal", "key": "invoice-1", "payload": {"ok": True, "by": "ana"}})
check(r == {"ok": True, "delivered": True, "runId": step1}, f"delivered: {r}")
tree = final(chain1)
check(tree["status"] == "completed" and tree["children"][0]["output"] == {"ok": True, "by": "ana"}, tree)
check(tree["children"][1]["output"] == {"ok": True}, tree)

# 2. A signal before its await: kept, then delivered when the step starts.
r = daemon.call({"type": "signal", "key": "invoice-2", "payload": {"ok": False}})
check(r == {"ok": True, "kept": True}, f"kept: {r}")
r = daemon.call({"type": "run", "chain": approval(2), "wait": True})
check(r["status"] == "completed" and r["tree"]["children"][0]["output"] == {"ok": False}, r)

# 3. An invalid payload is refused with its pointer and the step keeps waiting; a valid one then.
r = daemon.call({"type": "run", "chain": approval(3)})
chain3 = r["runId"]
step3 = waiting(daemon, "approve", chain3)
r = daemon.call({"type": "signal", "key": "invoice-3", "payload": {"ok": "yes"}})
check(not r["ok"] and r["error"]["code"] == "invalid_input" and r["error"]["path"] == "/payload/ok", r)
r = daemon.call({"type": "signal", "key": "invoice-3", "payload": {"ok": True, "by": ""}})
check(not r["ok"] and r["error"]["path"] == "/payload/by", r)
got3 = daemon.call({"type": "get", "runId": step3})
check(got3["run"]["status"] == "waiting", f"still waiting: {got3}")
r = daemon.call({"type": "signal", "runId": step3, "payload": {"ok": True}})
check(r == {"ok": True, "delivered": True, "runId": step3}, r)
check(final(chain3)["status"] == "completed", "chain 3 completed")
r = daemon.call({"type": "signal", "runId": step3, "payload": {"ok": True}})
check(not r["ok"] and r["error"]["code"] == "not_waiting", r)
r = daemon.call({"type": "signal", "payload": 1})
check(not r["ok"] and r["error"]["code"] == "invalid_input" and r["error"]["path"] == "/key", r)

# 4. A timeout fails the step with `timeout`, routed to onError.
r = daemon.call({"type": "run", "wait": True, "chain": approval(4, {
    "options": {"timeoutMs": 300},
    "onError": {"id": "escalate", "operation": "log", "input": {"ok": False, "escalated": "{{error.code}}"}}})})
step = r["tree"]["children"][0]
check(r["status"] == "completed" and step["error"]["code"] == "timeout" and step["recovered"], r)
check(step["output"] == {"ok": False, "escalated": "timeout"}, step)

# 5. kill -9 while a run waits: the restarted daemon waits again (same run), and the signal finishes it.
#    Then the same with SIGTERM, which in durable mode no longer cancels chains.
for i, sig in ((5, signal.SIGKILL), (6, signal.SIGTERM)):
    r = daemon.call({"type": "run", "chain": approval(i)})
    chain = r["runId"]
    step = waiting(daemon, "approve", chain)
    daemon.stop(sig)
    daemon = start()
    deadline = time.time() + SAFETY
    while daemon.call({"type": "get", "runId": step})["run"]["status"] != "waiting":
        check(time.time() < deadline, f"step {step} does not wait after the restart ({sig.name})")
        daemon.sub.poll(200)
    r = daemon.call({"type": "signal", "key": f"invoice-{i}", "payload": {"ok": True}})
    check(r == {"ok": True, "delivered": True, "runId": step}, f"after {sig.name}: {r}")
    tree = final(chain)
    check(tree["status"] == "completed" and tree["children"][1]["output"] == {"ok": True}, tree)

# 6. Over HTTP: POST /api/signals keeps or delivers; POST /api/runs/{id}/signal is the web view's form.
status, body = daemon.post("/api/signals", {"key": "invoice-7", "payload": {"ok": True}})
check(status == 200 and body == {"ok": True, "kept": True}, (status, body))
r = daemon.call({"type": "run", "chain": approval(7), "wait": True})
check(r["status"] == "completed", r)
r = daemon.call({"type": "run", "chain": approval(8)})
chain8 = r["runId"]
step8 = waiting(daemon, "approve", chain8)
status, body = daemon.post(f"/api/runs/{step8}/signal", {"payload": {"ok": 1}})
check(status == 400 and body["error"]["path"] == "/payload/ok", (status, body))
status, body = daemon.post(f"/api/runs/{step8}/signal", {"payload": {"ok": True}})
check(status == 200 and body["delivered"] and body["runId"] == step8, (status, body))
status, body = daemon.post(f"/api/runs/{step8}/signal", {"payload": {"ok": True}})
check(status == 409 and body["error"]["code"] == "not_waiting", (status, body))
check(final(chain8)["status"] == "completed", "chain 8 completed")

daemon.stop(signal.SIGTERM)
passed("signals: ok")

#!/usr/bin/env python3
"""await steps and signals through a real `coworker serve` (issue 18), from a pyzmq client:
an await signalled by key; a signal sent before its await starts; an invalid payload, then a valid
one; a timeout routed to onError; a daemon killed with kill -9 (and one stopped with SIGTERM) while
a run waits, restarted, then signalled; the same over HTTP (POST /api/signals, POST
/api/runs/{id}/signal).

    signals.py /path/to/coworker
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import zmq

from ports import free_ports

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="coworker-signals-")
DB = os.path.join(TMP, "serve.db")
LOG = os.path.join(TMP, "serve.log")
CTX = zmq.Context.instance()
SAFETY = 60.0  # a wait that reaches this is a hang, not a slow machine


class Daemon:
    def __init__(self):
        req, ev, http = free_ports(3)
        self.req, self.ev, self.http = f"tcp://127.0.0.1:{req}", f"tcp://127.0.0.1:{ev}", f"http://127.0.0.1:{http}"
        self.proc = subprocess.Popen([BIN, "serve", "--db", DB, "--requests", self.req, "--events", self.ev,
                                      "--workers", "none", "--http", f"127.0.0.1:{http}"],
                                     stdout=open(LOG, "a"), stderr=subprocess.STDOUT)
        self.sock = CTX.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(self.req)
        self.sub = CTX.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"update:run ")
        self.sub.setsockopt(zmq.SUBSCRIBE, b"heartbeat")
        self.sub.connect(self.ev)
        if self.call({"type": "ping"}, timeout=30).get("pong") is not True:
            fail("no pong")
        # The subscription is live once a heartbeat arrives (ZeroMQ's slow joiner).
        deadline = time.time() + SAFETY
        while time.time() < deadline:
            if self.sub.poll(1000) and self.sub.recv_multipart()[0] == b"heartbeat":
                return
        fail("no heartbeat")

    def call(self, req, timeout=SAFETY):
        self.sock.send_multipart([b"", json.dumps(req).encode()])
        if not self.sock.poll(int(timeout * 1000)):
            fail(f"no reply to {str(req)[:100]}")
        return json.loads(self.sock.recv_multipart()[-1])

    def post(self, path, body):
        req = urllib.request.Request(self.http + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=SAFETY) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def waiting(self, step_id, chain_id):
        """The run id of step `step_id` of chain `chain_id` once its update:run event says it waits."""
        deadline = time.time() + SAFETY
        while time.time() < deadline:
            if not self.sub.poll(1000):
                continue
            topic, body = self.sub.recv_multipart()
            if topic == b"heartbeat":
                continue
            env = json.loads(body)
            run = env["run"]
            if run["stepId"] == step_id and run["chainId"] == chain_id and run["status"] == "waiting":
                return run["id"]
        fail(f"step {step_id} never waited")

    def stop(self, sig):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=SAFETY)
        self.sock.close()
        self.sub.close()


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    print(open(LOG).read()[-3000:])
    if daemon and daemon.proc.poll() is None:
        daemon.proc.kill()
    os._exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


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


daemon = None
daemon = Daemon()

# 1. Signalled by key: the step waits (update:run, status waiting), the signal is delivered to it.
r = daemon.call({"type": "run", "chain": approval(1)})
check(r["ok"], r)
chain1 = r["runId"]
step1 = daemon.waiting("approve", chain1)
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
step3 = daemon.waiting("approve", chain3)
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
    step = daemon.waiting("approve", chain)
    daemon.stop(sig)
    daemon = Daemon()
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
step8 = daemon.waiting("approve", chain8)
status, body = daemon.post(f"/api/runs/{step8}/signal", {"payload": {"ok": 1}})
check(status == 400 and body["error"]["path"] == "/payload/ok", (status, body))
status, body = daemon.post(f"/api/runs/{step8}/signal", {"payload": {"ok": True}})
check(status == 200 and body["delivered"] and body["runId"] == step8, (status, body))
status, body = daemon.post(f"/api/runs/{step8}/signal", {"payload": {"ok": True}})
check(status == 409 and body["error"]["code"] == "not_waiting", (status, body))
check(final(chain8)["status"] == "completed", "chain 8 completed")

daemon.stop(signal.SIGTERM)
print("signals: ok")

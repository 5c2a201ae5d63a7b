#!/usr/bin/env python3
"""Large values through a real durable `coworker serve`, from a pyzmq client (docs/protocol.md, "Blobs").

A chain whose input holds a 10 MiB string runs through ten steps and gets its reply; the reply and every
event carry `{"$blob","bytes"}` in place of the string, and no event frame passes 64 KiB; templates reach
into it (`.length`); the `blob` request and GET /api/blobs/{id} give the value back, its SHA-256 the id's;
a remote worker gets its input whole; the store holds it once; a frame past limits.requestBytes gets a
too_large reply, not silence.
"""
import faulthandler
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

import zmq

from ports import free_ports
from scratch import passed, scratch_dir

BIN, ROOT = sys.argv[1], sys.argv[2]
faulthandler.dump_traceback_later(240, exit=True)  # a hang shows where it is
CTX = zmq.Context.instance()
TMP = scratch_dir("coworker-large-")
DB = os.path.join(TMP, "serve.db")


def fail(msg):
    print("FAIL: " + msg, flush=True)
    try:
        print(open(os.path.join(TMP, "serve.log")).read()[-3000:])
    finally:
        daemon.kill()
        if "worker" in globals():
            worker.kill()
        os._exit(1)


req_port, ev_port, wk_port, http_port = free_ports(4)
REQ, EV, WK = (f"tcp://127.0.0.1:{p}" for p in (req_port, ev_port, wk_port))
daemon = subprocess.Popen([BIN, "serve", "--db", DB, "--requests", REQ, "--events", EV, "--workers", WK,
                           "--http", f"127.0.0.1:{http_port}"],
                          stdout=open(os.path.join(TMP, "serve.log"), "w"), stderr=subprocess.STDOUT)
# A remote worker (examples/python/worker.py) serves `classify`: it labels a text "billing" when it
# sees "invoice", which the value below has only in its last bytes.
worker = subprocess.Popen([sys.executable, os.path.join(ROOT, "examples/python/worker.py"), "--workers", WK],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
if "serving" not in worker.stdout.readline():
    fail("the worker was not welcomed")

dealer = CTX.socket(zmq.DEALER)
dealer.setsockopt(zmq.LINGER, 0)
dealer.connect(REQ)


def request(msg, timeout=120.0, raw=None):
    dealer.send_multipart([b"", raw if raw is not None else json.dumps(msg).encode()])
    if not dealer.poll(int(timeout * 1000)):
        fail(f"no reply to {str(msg)[:80]} within {timeout} s")
    return json.loads(dealer.recv_multipart()[-1])


if request({"type": "ping"}, timeout=30).get("pong") is not True:
    fail("no pong")

# Events from the start: small chains until the subscriber sees one (ZeroMQ's slow joiner).
sub = CTX.socket(zmq.SUB)
sub.setsockopt(zmq.LINGER, 0)
sub.setsockopt(zmq.RCVHWM, 0)
sub.setsockopt(zmq.SUBSCRIBE, b"")
sub.connect(EV)
tiny = {"operation": "run", "children": [{"operation": "wait", "input": {"ms": 0}}]}
for _ in range(100):
    request({"type": "run", "chain": tiny, "wait": True})
    if sub.poll(100):
        break
else:
    fail("the subscriber saw no event")
while sub.poll(200):
    sub.recv_multipart()

BIG = "x" * ((10 << 20) - 7) + "invoice"
steps = [{"id": "s1", "operation": "log", "input": "{{input}}"}]
steps += [{"id": f"s{i}", "operation": "log", "input": "{{prev.output}}"} for i in range(2, 10)]
steps.append({"id": "s10", "operation": "log", "input": {"length": "{{s9.output.doc.length}}", "n": "{{s9.output.n}}"}})
steps.append({"id": "s11", "operation": "classify", "input": "{{s9.output}}"})
reply = request({"type": "run", "wait": True, "chain": {"operation": "run", "children": steps},
                 "input": {"doc": BIG, "n": 7}})
if not reply.get("ok") or reply.get("status") != "completed":
    fail(f"the 10 MiB chain: {str(reply)[:300]}")
children = {c["stepId"]: c for c in reply["tree"]["children"]}
if children["s10"]["output"] != {"length": 10 << 20, "n": 7}:
    fail(f"templates into the large value: {children['s10']['output']}")
if children["s11"]["output"].get("label") != "billing":
    fail(f"the remote worker did not get the value whole: {children['s11']['output']}")
ref = children["s5"]["output"]["doc"]
if set(ref) != {"$blob", "bytes"} or ref["bytes"] != len(BIG) + 2 or not ref["$blob"].startswith("sha256:"):
    fail(f"s5's output carries {str(ref)[:200]}, not a blob reference")
if ref["$blob"] != "sha256:" + hashlib.sha256(json.dumps(BIG).encode()).hexdigest():
    fail("the blob id is not the SHA-256 of the value's JSON")
if len(json.dumps(reply)) > 64 * 1024:
    fail(f"the reply is {len(json.dumps(reply))} bytes")

# Every event of the chain (24: its start and end and its eleven steps'), no frame past 64 KiB.
root, largest, seen = reply["runId"], 0, 0
deadline = time.time() + 60
while time.time() < deadline:
    if not sub.poll(1000):
        continue
    topic, body = sub.recv_multipart()
    largest = max(largest, len(body))
    env = json.loads(body)
    run = env.get("run") or {}  # heartbeats carry none
    seen += run.get("chainId") == root
    if env.get("event") == "after:run" and run.get("id") == root:
        break
else:
    fail("the chain's last event did not come")
if seen != 24 or largest > 64 * 1024:
    fail(f"{seen} events (want 24), the largest frame {largest} bytes")

# The value back, by the protocol and over HTTP, its hash checked by the daemon and here.
got = request({"type": "blob", "id": ref["$blob"]})
if not got.get("ok") or got.get("value") != BIG:
    fail(f"blob request: {str(got)[:200]}")
with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/api/blobs/{ref['$blob']}", timeout=60) as r:
    body = r.read()
if hashlib.sha256(body).hexdigest() != ref["$blob"][7:]:
    fail("GET /api/blobs/{id} did not return the value")
bad = request({"type": "blob", "id": "sha256:" + "0" * 64})
if bad.get("ok") is not False or bad["error"]["code"] != "not_found":
    fail(f"an unknown blob: {bad}")

# Stored once: one blob of 10 MiB, though ten steps' inputs and outputs carried it.
count, size = sqlite3.connect(DB).execute("SELECT COUNT(*), SUM(LENGTH(text)) FROM blobs").fetchone()
if count != 1 or size != len(BIG) + 2:
    fail(f"blobs in the store: {count}, {size} bytes")

# Past the limit (limits.requestBytes, 65 MiB): an error reply, and the connection goes on serving.
too = request(None, raw=b" " * (65 * 1024 * 1024 + 1), timeout=60)
if too.get("ok") is not False or too["error"]["code"] != "too_large":
    fail(f"a frame past the limit: {str(too)[:200]}")
if request({"type": "ping"}).get("pong") is not True:
    fail("no pong after the frame past the limit")

worker.kill()
daemon.send_signal(signal.SIGTERM)
if daemon.wait(timeout=30) != 0:
    fail(f"serve exited {daemon.returncode}")
passed(f"large values: a 10 MiB input through 11 steps and a remote worker, {seen} events of at most {largest} bytes, "
      "one blob: ok")

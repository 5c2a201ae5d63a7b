#!/usr/bin/env python3
"""Hostile input on every socket of `coworker serve`, written from docs/protocol.md and docs/web.md
alone: wrong types in every field of worker frames, request frames and HTTP requests, unknown task
ids, answers before hello, multi-frame and binary messages, deep nesting, 10 MiB frames. Each is sent
on a fresh connection; after each the daemon must still answer `ping`; a message it cannot use gets
an error naming the code (and the field's JSON Pointer where there is one). Then the contract bugs of
issue 15: a second hello replaces the first, `?wait=abc` and `?recent=abc` are 400, brotli is never
chosen. At the end a real worker (examples/python/worker.py) serves a chain.

    hostile_input.py /path/to/coworker /path/to/repo
"""
import faulthandler
import json
import os
import socket
import subprocess
import sys
import time

import zmq

from ports import free_ports
from scratch import passed, scratch_dir

BIN, ROOT = sys.argv[1], sys.argv[2]
faulthandler.dump_traceback_later(60, exit=True)  # a hang shows where it is
CTX = zmq.Context.instance()
TMP = scratch_dir("coworker-hostile-")


def fail(msg):
    print("FAIL: " + msg, flush=True)
    try:
        print(open(os.path.join(TMP, "serve.log")).read()[-3000:])
    except OSError:
        pass
    daemon.kill()
    os._exit(1)


req_port, ev_port, wk_port, http_port = free_ports(4)
REQ, EV, WK = (f"tcp://127.0.0.1:{p}" for p in (req_port, ev_port, wk_port))
# Limits smaller than the defaults (64 MiB values, docs/security.md), so that frames past them, and
# past the 4x that ZeroMQ and the HTTP server refuse to buffer, stay a few MiB.
CONFIG = os.path.join(TMP, "limits.json")
with open(CONFIG, "w") as f:
    json.dump({"limits": {"requestBytes": 1 << 20, "valueBytes": 256 << 10}}, f)
daemon = subprocess.Popen([BIN, "serve", "--config", CONFIG, "--ephemeral", "--requests", REQ, "--events", EV,
                           "--workers", WK, "--http", f"127.0.0.1:{http_port}"],
                          stdout=open(os.path.join(TMP, "serve.log"), "w"), stderr=subprocess.STDOUT)


def dealer(endpoint):
    s = CTX.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(endpoint)
    return s


def request(frames, timeout=10.0):
    """Sends `frames` on a fresh DEALER to the request socket; the reply, or None."""
    s = dealer(REQ)
    try:
        s.send_multipart([b""] + frames)
        if not s.poll(int(timeout * 1000)):
            return None
        return json.loads(s.recv_multipart()[-1])
    finally:
        s.close()


def ping():
    r = request([json.dumps({"type": "ping"}).encode()])
    return r is not None and r.get("ok") is True


def alive(after):
    if daemon.poll() is not None:
        fail(f"the daemon exited ({daemon.returncode}) after {after}")
    if not ping():
        fail(f"no ping answer after {after}")


deadline = time.time() + 20
while time.time() < deadline and not ping():
    time.sleep(0.1)
alive("start")

# --- worker frames --------------------------------------------------------------------------------
J = lambda o: json.dumps(o).encode()
HELLO = J({"type": "hello", "operations": ["hostile_op"], "capacity": 1})
worker_frames = [
    # (description, frames, hello first?, the error code expected back or None for "no reply")
    ("capacity a string", [J({"type": "hello", "capacity": "many", "operations": ["x"]})], False, "invalid_input"),
    ("capacity null ok, operations a number", [J({"type": "hello", "capacity": None, "operations": 7})], False, "invalid_input"),
    ("capacity 0", [J({"type": "hello", "capacity": 0})], False, "invalid_input"),
    ("capacity huge", [J({"type": "hello", "capacity": 10**30})], False, "invalid_input"),
    ("capacity negative", [J({"type": "hello", "capacity": -5})], False, "invalid_input"),
    ("capacity a float", [J({"type": "hello", "capacity": 1.5})], False, "invalid_input"),
    ("capacity a bool", [J({"type": "hello", "capacity": True})], False, "invalid_input"),
    ("capacity an object", [J({"type": "hello", "capacity": {"n": 1}})], False, "invalid_input"),
    ("an operation named 7", [J({"type": "hello", "operations": [7]})], False, "invalid_input"),
    ("an operation null", [J({"type": "hello", "operations": [None]})], False, "invalid_input"),
    ("an operation an array", [J({"type": "hello", "operations": [["x"]]})], False, "invalid_input"),
    ("an operation object without name", [J({"type": "hello", "operations": [{}]})], False, "invalid_input"),
    ("an operation object name 7", [J({"type": "hello", "operations": [{"name": 7}]})], False, "invalid_input"),
    ("inputSchema a string", [J({"type": "hello", "operations": [{"name": "x", "inputSchema": "s"}]})], False, "invalid_input"),
    ("an operation named run", [J({"type": "hello", "operations": ["run"]})], False, "invalid_input"),
    ("an operation name with spaces", [J({"type": "hello", "operations": ["a b"]})], False, "invalid_input"),
    ("an operation name empty", [J({"type": "hello", "operations": [""]})], False, "invalid_input"),
    ("an operation name of 10 KB", [J({"type": "hello", "operations": ["x" * 10000]})], False, "invalid_input"),
    ("operations an object", [J({"type": "hello", "operations": {"a": 1}})], False, "invalid_input"),
    ("result before hello", [J({"type": "result", "taskId": "task-1", "output": 1})], False, "not_registered"),
    ("error before hello", [J({"type": "error", "taskId": "task-1"})], False, "not_registered"),
    ("heartbeat before hello", [J({"type": "heartbeat"})], False, "not_registered"),
    ("bye before hello", [J({"type": "bye"})], False, "not_registered"),
    ("result taskId a number", [J({"type": "result", "taskId": 5, "output": 1})], True, "invalid_input"),
    ("result taskId null", [J({"type": "result", "taskId": None})], True, "invalid_input"),
    ("result without taskId", [J({"type": "result", "output": 1})], True, "invalid_input"),
    ("error taskId null", [J({"type": "error", "taskId": None, "error": {"code": "x"}})], True, "invalid_input"),
    ("error taskId an object", [J({"type": "error", "taskId": {}, "error": {}})], True, "invalid_input"),
    ("error.error a string", [J({"type": "error", "taskId": "task-1", "error": "boom"})], True, "invalid_input"),
    ("error.error.code a number", [J({"type": "error", "taskId": "task-1", "error": {"code": 1}})], True, "invalid_input"),
    ("error.error.message an array", [J({"type": "error", "taskId": "t", "error": {"message": []}})], True, "invalid_input"),
    ("result for an unknown task", [J({"type": "result", "taskId": "task-424242", "output": 1})], True, None),
    ("error for an unknown task", [J({"type": "error", "taskId": "task-424243", "error": {"code": "x"}})], True, None),
    ("type a number", [J({"type": 7})], False, "bad_json"),
    ("type null", [J({"type": None})], False, "bad_json"),
    ("no type", [J({"capacity": 1})], False, "bad_json"),
    ("unknown type", [J({"type": "dance"})], True, "unknown_type"),
    ("a JSON array", [b"[1,2,3]"], False, "bad_json"),
    ("a JSON string", [b'"hello"'], False, "bad_json"),
    ("not JSON", [b"hello {"], False, "bad_json"),
    ("binary", [bytes(range(256)) * 4], False, "bad_json"),
    ("invalid UTF-8 in a string", [b'{"type":"hello","operations":["\xff\xfe"]}'], False, "bad_json"),
    ("two frames", [HELLO, HELLO], False, "bad_json"),
    ("three frames", [b"a", b"b", b"c"], False, "bad_json"),
    ("only a delimiter", [b""], False, "bad_json"),
    ("deep nesting", [b'{"type":"hello","x":' + b"[" * 100000 + b"]" * 100000 + b"}"], False, "too_deep"),
    ("a duplicate key", [b'{"type":"hello","type":"bye"}'], False, "bad_json"),
    ("an answer past 4 MiB", [J({"type": "result", "taskId": "task-1", "output": "x" * (4 << 20)})], True, "too_large"),
    ("a 10 MiB frame", [b"x" * (10 << 20)], False, None),  # ZeroMQ disconnects: no reply
]
if len(worker_frames) < 40:
    fail("fewer than 40 hostile worker frames")
for what, frames, hello_first, code in worker_frames:
    s = dealer(WK)
    try:
        if hello_first:
            s.send(HELLO)
            if not s.poll(5000):
                fail(f"worker frames: no welcome before '{what}'")
            if json.loads(s.recv())["type"] != "welcome":
                fail(f"worker frames: no welcome before '{what}'")
        s.send_multipart(frames)
        if code is None:
            if s.poll(300):
                fail(f"worker frames: '{what}' got an answer: {s.recv()[:200]}")
        else:
            if not s.poll(5000):
                fail(f"worker frames: no error back for '{what}'")
            reply = json.loads(s.recv())
            if reply.get("type") != "error" or reply["error"].get("code") != code:
                fail(f"worker frames: '{what}' answered {reply}, expected the code {code}")
            if code == "invalid_input" and not reply["error"].get("path", "").startswith("/"):
                fail(f"worker frames: '{what}' has no JSON Pointer: {reply}")
    finally:
        s.close()
    alive(f"the worker frame '{what}'")
print(f"worker frames: {len(worker_frames)} hostile frames, the daemon kept serving", flush=True)


def operations():
    return {o["name"] for o in request([J({"type": "operations"})])["operations"]}


def wait_for(cond, what, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    fail(what)


# A second hello replaces the first; a worker that leaves takes what it served with it.
w = dealer(WK)
w.send(J({"type": "hello", "operations": ["op_a"]}))
w.poll(5000) and w.recv()
if "op_a" not in operations():
    fail("op_a is not listed after hello [op_a]")
w.send(J({"type": "hello", "operations": ["op_b"]}))
if not w.poll(5000) or json.loads(w.recv())["operations"] != ["op_b"]:
    fail("the second hello was not welcomed with [op_b]")
ops = operations()
if "op_a" in ops or "op_b" not in ops:
    fail(f"after hello [op_a] then hello [op_b] the operations are {sorted(ops)}")
refused = request([J({"type": "run", "chain": {"operation": "run", "children": [{"operation": "op_a"}]}})])
if refused.get("ok") is not False or refused["error"]["code"] != "unknown_operation":
    fail(f"a chain naming op_a after the second hello: {refused}")
w.send(J({"type": "bye"}))
wait_for(lambda: "op_b" not in operations(), "op_b is still listed after its worker said bye")
w.close()
# A worker that stops heartbeating is lost the same way (3 × heartbeatMs).
w = dealer(WK)
w.send(J({"type": "hello", "operations": ["op_c"]}))
w.poll(5000) and w.recv()
w.send(J({"type": "hello", "operations": ["op_d"]}))
w.poll(5000) and w.recv()
w.close()
wait_for(lambda: not ({"op_c", "op_d"} & operations()), "op_c or op_d is listed after their worker was lost")
print("second hello: replaces the first; nothing stays listed after the worker is lost", flush=True)

# --- request frames -------------------------------------------------------------------------------
CH = {"operation": "run", "children": [{"operation": "log"}]}
request_frames = [
    ("not JSON", [b"{"], "bad_json"),
    ("binary", [bytes(range(256))], "bad_json"),
    ("empty", [b""], "bad_json"),
    ("an array", [b"[]"], "bad_json"),
    ("a number", [b"7"], "bad_json"),
    ("null", [b"null"], "bad_json"),
    ("no type", [J({"chain": CH})], "bad_json"),
    ("type a number", [J({"type": 1})], "bad_json"),
    ("type an array", [J({"type": ["run"]})], "bad_json"),
    ("unknown type", [J({"type": "launch"})], "unknown_type"),
    ("run without chain", [J({"type": "run"})], "invalid_chain"),
    ("run chain a string", [J({"type": "run", "chain": "x"})], "invalid_chain"),
    ("run chain null", [J({"type": "run", "chain": None})], "invalid_chain"),
    ("run wait a string", [J({"type": "run", "chain": CH, "wait": "yes"})], "invalid_input"),
    ("run wait a number", [J({"type": "run", "chain": CH, "wait": 1})], "invalid_input"),
    ("run key a number", [J({"type": "run", "chain": CH, "key": 5})], "invalid_input"),
    ("run key an object", [J({"type": "run", "chain": CH, "key": {}})], "invalid_input"),
    ("run chain with an unknown field", [J({"type": "run", "chain": {"operation": "run", "children": [{"operation": "log", "inptu": 1}]}})], "unknown_field"),
    ("run chain of unknown operation", [J({"type": "run", "chain": {"operation": "run", "children": [{"operation": "nope"}]}})], "unknown_operation"),
    ("get runId a number", [J({"type": "get", "runId": 5})], "invalid_input"),
    ("get without runId", [J({"type": "get"})], "invalid_input"),
    ("get tree a string", [J({"type": "get", "runId": "run-x", "tree": "1"})], "invalid_input"),
    ("get unknown", [J({"type": "get", "runId": "run-none"})], "not_found"),
    ("list status a number", [J({"type": "list", "status": 1})], "invalid_input"),
    ("list unknown status", [J({"type": "list", "status": "asleep"})], "invalid_input"),
    ("list limit a string", [J({"type": "list", "limit": "10"})], "invalid_input"),
    ("list limit 0", [J({"type": "list", "limit": 0})], "invalid_input"),
    ("list limit huge", [J({"type": "list", "limit": 10**20})], "invalid_input"),
    ("list limit a float", [J({"type": "list", "limit": 2.5})], "invalid_input"),
    ("list roots a string", [J({"type": "list", "roots": "yes"})], "invalid_input"),
    ("list chainId a number", [J({"type": "list", "chainId": 3})], "invalid_input"),
    ("cancel runId null", [J({"type": "cancel", "runId": None})], "invalid_input"),
    ("cancel unknown", [J({"type": "cancel", "runId": "run-none"})], "not_found"),
    ("snapshot recent a string", [J({"type": "snapshot", "recent": "abc"})], "invalid_input"),
    ("snapshot recent negative", [J({"type": "snapshot", "recent": -1})], "invalid_input"),
    ("snapshot recent too many", [J({"type": "snapshot", "recent": 10001})], "invalid_input"),
    ("deep nesting", [b'{"type":"ping","x":' + b"[" * 100000 + b"]" * 100000 + b"}"], "too_deep"),
    ("a duplicate key", [b'{"type":"ping","type":"run"}'], "bad_json"),
    ("two frames", [J({"type": "ping"}), J({"type": "ping"})], "bad_json"),
    ("over requestBytes", [J({"type": "run", "chain": CH, "input": "x" * (2 << 20)})], "too_large"),
    ("invalid UTF-8", [b'{"type":"get","runId":"\xc3\x28"}'], "bad_json"),
    ("a 10 MiB frame", [b"x" * (10 << 20)], None),  # past ZMQ_MAXMSGSIZE: disconnected, no reply
]
if len(request_frames) < 40:
    fail("fewer than 40 hostile request frames")
for what, frames, code in request_frames:
    reply = request(frames, timeout=5.0 if code else 0.5)
    if code is not None:
        if reply is None or reply.get("ok") is not False or reply["error"]["code"] != code:
            fail(f"request frames: '{what}' answered {reply}, expected the code {code}")
        if code == "invalid_input" and not reply["error"].get("path", "").startswith("/"):
            fail(f"request frames: '{what}' has no JSON Pointer: {reply}")
    alive(f"the request frame '{what}'")
print(f"request frames: {len(request_frames)} hostile frames, the daemon kept serving", flush=True)


# --- raw HTTP requests ----------------------------------------------------------------------------
def http_raw(data, timeout=5.0):
    """Sends raw bytes on a fresh connection; the status code (or None) and the raw response."""
    s = socket.create_connection(("127.0.0.1", http_port), timeout=timeout)
    try:
        s.sendall(data)  # no half-close: cpp-httplib takes a closed read side for a gone client
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            out += chunk
    except (BrokenPipeError, ConnectionResetError):
        out = b""
    finally:
        s.close()
    status = None
    if out.startswith(b"HTTP/1."):
        try:
            status = int(out.split(b" ", 2)[1])
        except ValueError:
            pass
    return status, out


def http(method, path, body=None, headers=None):
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{http_port}\r\nConnection: close\r\n"
    for k, v in (headers or {}).items():
        head += f"{k}: {v}\r\n"
    data = body.encode() if isinstance(body, str) else (body or b"")
    if body is not None:
        head += f"Content-Length: {len(data)}\r\n"
    return http_raw(head.encode() + b"\r\n" + data)


def http_alive(after):
    alive(after)
    status, _ = http("GET", "/api/ping")
    if status != 200:
        fail(f"GET /api/ping answered {status} after {after}")


JSONH = {"Content-Type": "application/json"}
chain_text = json.dumps(CH)
http_cases = [
    # (description, callable returning (status, raw), the statuses accepted)
    ("?wait=abc", lambda: http("POST", "/api/runs?wait=abc", chain_text, JSONH), {400}),
    ("?wait=yes", lambda: http("POST", "/api/runs?wait=yes", chain_text, JSONH), {400}),
    ("?recent=abc", lambda: http("GET", "/api/snapshot?recent=abc"), {400}),
    ("?recent=-1", lambda: http("GET", "/api/snapshot?recent=-1"), {400}),
    ("?recent=1e9", lambda: http("GET", "/api/snapshot?recent=1e9"), {400}),
    ("?recent=99999", lambda: http("GET", "/api/snapshot?recent=99999"), {400}),
    ("?limit=abc", lambda: http("GET", "/api/runs?limit=abc"), {400}),
    ("?limit=0", lambda: http("GET", "/api/runs?limit=0"), {400}),
    ("?roots=maybe", lambda: http("GET", "/api/runs?roots=maybe"), {400}),
    ("?status=asleep", lambda: http("GET", "/api/runs?status=asleep"), {400}),
    ("?tree=x", lambda: http("GET", "/api/runs/run-x?tree=x"), {400}),
    ("body not JSON", lambda: http("POST", "/api/runs", "{", JSONH), {400}),
    ("body an array", lambda: http("POST", "/api/runs", "[]", JSONH), {400}),
    ("body binary", lambda: http("POST", "/api/runs", bytes(range(256)), JSONH), {400}),
    ("body wait a string", lambda: http("POST", "/api/runs", json.dumps({"chain": CH, "wait": "yes"}), JSONH), {400}),
    ("body chain a number", lambda: http("POST", "/api/runs", json.dumps({"chain": 5}), JSONH), {400}),
    ("body deep", lambda: http("POST", "/api/runs", "[" * 100000 + "]" * 100000, JSONH), {400}),
    ("body too large", lambda: http("POST", "/api/runs", json.dumps({"chain": CH, "input": "x" * (2 << 20)}), JSONH), {413}),
    ("body over the server's cap", lambda: http("POST", "/api/runs", "x" * (10 << 20), JSONH), {413, None}),
    ("no Content-Type", lambda: http("POST", "/api/runs", chain_text), {415}),
    ("wrong Content-Type", lambda: http("POST", "/api/runs", chain_text, {"Content-Type": "text/plain"}), {415}),
    ("validate binary", lambda: http("POST", "/api/validate", bytes(range(256)), JSONH), {200}),
    ("cancel unknown", lambda: http("POST", "/api/runs/run-none/cancel", "", JSONH), {404}),
    ("GET on cancel", lambda: http("GET", "/api/runs/run-none/cancel"), {405}),
    ("DELETE a run", lambda: http("DELETE", "/api/runs/run-none"), {400, 404, 405}),
    ("unknown endpoint", lambda: http("GET", "/api/nothing"), {404}),
    ("a run path too deep", lambda: http("GET", "/api/runs/a/b/c"), {404}),
    ("a foreign Host", lambda: http_raw(b"GET /api/ping HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"), {403}),
    ("no Host", lambda: http_raw(b"GET /api/ping HTTP/1.1\r\nConnection: close\r\n\r\n"), {400, 403}),
    ("HTTP/0.9", lambda: http_raw(b"GET /api/ping\r\n\r\n"), {400, None}),
    ("garbage", lambda: http_raw(bytes(range(256)) * 8), {400, None}),
    ("an empty request", lambda: http_raw(b"\r\n\r\n"), {400, None}),
    ("a 100 KB header", lambda: http_raw(b"GET /api/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 100000 + b"\r\n\r\n"), {400, 431, None}),
    ("10,000 headers", lambda: http_raw(b"GET /api/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X: y\r\n" * 10000 + b"\r\n"), {200, 400, 431, None}),
    ("a 100 KB path", lambda: http_raw(b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), {400, 404, 414, None}),
    ("a negative Content-Length", lambda: http_raw(b"POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}"), {400, 413, None}),
    ("a huge Content-Length", lambda: http_raw(b"POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999\r\n\r\n{}"), {400, 413, None}),
    ("bad chunked encoding", lambda: http_raw(b"POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n"), {400, None}),
    ("a percent-encoded NUL", lambda: http("GET", "/api/runs/run-%00x"), {404}),
    ("bad percent-encoding", lambda: http("GET", "/api/runs/%zz%"), {400, 404}),
    ("SSE since=abc", lambda: http_raw(f"GET /api/events?since=abc HTTP/1.1\r\nHost: 127.0.0.1:{http_port}\r\nConnection: close\r\n\r\n".encode(), timeout=3), {200}),
    ("a wrong token on a tokenless server", lambda: http("GET", "/api/ping", headers={"Authorization": "Bearer x"}), {200}),
]
if len(http_cases) < 40:
    fail("fewer than 40 hostile HTTP requests")
for what, send, statuses in http_cases:
    status, raw = send()
    if status not in statuses:
        fail(f"HTTP: '{what}' answered {status} (expected one of {statuses}): {raw[:300]!r}")
    body = raw.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in raw else b""
    if status is not None and status >= 400 and body and b'"ok":false' not in body:
        fail(f"HTTP: '{what}' answered {status} without a JSON error: {raw[:300]!r}")
    http_alive(f"the HTTP request '{what}'")
print(f"HTTP: {len(http_cases)} hostile requests, the daemon kept serving", flush=True)

# Compression: every browser accepts br; the server must answer gzip (or nothing), never br.
for enc in ("gzip, deflate, br", "br", "br;q=1.0, gzip;q=0.5"):
    status, raw = http("GET", "/api/snapshot?recent=200", headers={"Accept-Encoding": enc})
    head = raw.split(b"\r\n\r\n", 1)[0].lower()
    if status != 200 or b"content-encoding: br" in head:
        fail(f"GET /api/snapshot with Accept-Encoding '{enc}': {status} {head!r}")
print("HTTP: strict query values; gzip, never brotli", flush=True)

# --- a real worker serves a chain after all of it -------------------------------------------------
worker = subprocess.Popen([sys.executable, os.path.join(ROOT, "examples/python/worker.py"), "--workers", WK,
                           "--name", "real"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    wait_for(lambda: "classify" in operations(), "the real worker's classify never showed up", timeout=20)
    done = request([J({"type": "run", "wait": True, "chain": {"operation": "run", "children": [
        {"id": "c", "operation": "classify", "input": "invoice 7 is overdue"}]}})], timeout=30)
    if not done or done.get("status") != "completed" or done["tree"]["children"][0]["output"]["label"] != "billing":
        fail(f"the real worker's chain: {done}")
finally:
    worker.kill()
print("a real worker served a chain after all of it: ok", flush=True)
daemon.terminate()
if daemon.wait(timeout=30) != 0:
    fail(f"serve exited {daemon.returncode} on SIGTERM")
passed()

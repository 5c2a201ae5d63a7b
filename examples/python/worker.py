#!/usr/bin/env python3
"""A remote worker for `coworker serve`: serves the operation `classify` (a keyword classifier).

    python3 examples/python/worker.py [--workers tcp://127.0.0.1:5572] [--capacity 4]
        [--name w1] [--delay-ms 0] [--curve-server-key KEY|FILE --curve-key FILE]

It connects with DEALER, says hello with the operations it serves and how many tasks it takes at
once, answers each task with {"type": "result", "taskId", "output"} (or "error"), and heartbeats
every second; the broker gives the tasks of a silent worker to another. See docs/protocol.md.
Against a daemon that requires CURVE, the worker's public key must be in its allow-list
(docs/security.md); the keys are given as in submit.py.
"""
import argparse
import json
import sys
import time

import zmq

from submit import add_curve_arguments, curve_keys, secure

LABELS = {"invoice": "billing", "payment": "billing", "bug": "support", "crash": "support",
          "lunch": "social", "meeting": "calendar", "contract": "legal"}


def classify(inp):
    text = json.dumps(inp).lower()
    for word, label in LABELS.items():
        if word in text:
            return {"label": label, "matched": word}
    return {"label": "other", "matched": None}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", default="tcp://127.0.0.1:5572")
    p.add_argument("--capacity", type=int, default=4)
    p.add_argument("--name", default="worker")
    p.add_argument("--delay-ms", type=int, default=0, help="pretend each task takes this long")
    p.add_argument("--summarize", action="store_true",
                   help="also serve summarize (used when the daemon routes it to workers)")
    add_curve_arguments(p)
    a = p.parse_args()

    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    secure(sock, curve_keys(a))
    sock.connect(a.workers)
    ops = [{"name": "classify", "inputSchema": {"type": "any"}}]
    if a.summarize:
        ops.append({"name": "summarize"})
    hello = {"type": "hello", "capacity": a.capacity, "operations": ops}
    sock.send_json(hello)
    last_beat, served = time.time(), 0
    pending = []  # (due time, task) so a slow task does not block heartbeats
    while True:
        timeout = 100 if pending else 1000
        if sock.poll(timeout):
            msg = sock.recv_json()
            if msg["type"] == "welcome":
                print(f"{a.name}: serving {msg['operations']}", flush=True)
            elif msg["type"] == "task":
                pending.append((time.time() + a.delay_ms / 1000.0, msg))
        now = time.time()
        for due, task in [t for t in pending if t[0] <= now]:
            pending.remove((due, task))
            if task["operation"] == "summarize":
                out = {"summary": f"{len(json.dumps(task['input']))} characters summarized remotely"}
            else:
                out = classify(task["input"])
            out["worker"] = a.name
            sock.send_json({"type": "result", "taskId": task["taskId"], "output": out})
            served += 1
            print(f"{a.name}: served {served}", flush=True)
        if now - last_beat >= 1.0:
            sock.send_json({"type": "heartbeat"})
            last_beat = now


if __name__ == "__main__":
    sys.exit(main())

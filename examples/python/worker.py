#!/usr/bin/env python3
"""A remote worker for `coworker serve`: serves the operation `classify` (a keyword classifier).

    python3 examples/python/worker.py [--workers tcp://127.0.0.1:5572] [--capacity 4]
        [--name w1] [--delay-ms 0] [--summarize] [--curve-server-key KEY|FILE --curve-key FILE]

Built on the Worker of the Python client (clients/python, docs/clients.md), which says hello with
the operations it serves and how many tasks it takes at once, runs each task on a thread of its own,
answers with its output (or an error), heartbeats, and says hello again to a restarted daemon; the
daemon gives the tasks of a silent worker to another (docs/protocol.md, "Workers"). Prints
"NAME: serving [...]" once a daemon accepted it and "NAME: served N" after each task; on SIGINT or
SIGTERM it says bye and stops. Against a daemon that requires CURVE, the worker's public key must
be in its allow-list (docs/security.md); the keys are given as in submit.py.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time

try:
    from coworker_client import Worker
except ImportError:  # not installed (pip install clients/python): use the one in this checkout
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../clients/python"))
    from coworker_client import Worker

from submit import add_curve_arguments, curve_keys

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
    p.add_argument("--capacity", type=int, default=4, help="tasks at once, 1 to 1000")
    p.add_argument("--name", default="worker", help="put in every output as \"worker\"")
    p.add_argument("--delay-ms", type=int, default=0, help="pretend each task takes this long")
    p.add_argument("--summarize", action="store_true",
                   help="also serve summarize (used when the daemon routes it to workers)")
    add_curve_arguments(p)
    a = p.parse_args()
    if not 1 <= a.capacity <= 1000:
        p.error("--capacity is 1 to 1000")

    worker = Worker(a.workers, capacity=a.capacity, curve=curve_keys(a))
    served, lock = 0, threading.Lock()

    def done(output):  # every handler's output names this worker; count and log it
        nonlocal served
        with lock:
            served += 1
            print(f"{a.name}: served {served}", flush=True)
        return dict(output, worker=a.name)

    @worker.operation("classify", input_schema={"type": "any"})
    def classify_task(inp, task):
        time.sleep(a.delay_ms / 1000)  # on the task's own thread: heartbeats go on meanwhile
        return done(classify(inp))

    if a.summarize:
        @worker.operation("summarize")
        def summarize_task(inp, task):
            time.sleep(a.delay_ms / 1000)
            return done({"summary": f"{len(json.dumps(inp))} characters summarized remotely"})

    operations = ["classify", "summarize"] if a.summarize else ["classify"]

    def announce():  # one line once a daemon accepted the worker
        worker.welcomed.wait()
        print(f"{a.name}: serving {operations}", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: worker.stop())
    worker.run()  # until stop(): then it says bye, and the daemon gives its tasks to other workers
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Watch every run event of `coworker serve`, with no gap (the ZeroMQ Guide's Clone pattern).

    python3 examples/python/watch.py [--events tcp://127.0.0.1:5571]
        [--requests tcp://127.0.0.1:5570] [--count N] [--chain RUN_ID]
        [--curve-server-key KEY|FILE --curve-key FILE]

Subscribe first, then ask for a snapshot; drop events whose seq is at or below the snapshot's;
on a gap (a seq that is not last + 1, or a heartbeat ahead of us) take a new snapshot.
Prints one line per event: seq, event, status, step. With --count, exits after N events and
prints a final JSON line {"events": N, "gaps": G, "last_seq": S}. CURVE as in submit.py.
"""
import argparse
import json
import sys
import time

import zmq

from submit import add_curve_arguments, curve_keys, request, secure


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", default="tcp://127.0.0.1:5571")
    p.add_argument("--requests", default="tcp://127.0.0.1:5570")
    p.add_argument("--count", type=int, default=0, help="stop after this many events")
    p.add_argument("--chain", help="only events of this chain")
    p.add_argument("--timeout", type=float, default=30.0, help="give up after this long without events")
    add_curve_arguments(p)
    a = p.parse_args()
    curve = curve_keys(a)

    sub = zmq.Context.instance().socket(zmq.SUB)
    secure(sub, curve)
    sub.setsockopt(zmq.RCVHWM, 0)
    sub.setsockopt(zmq.LINGER, 0)
    if a.chain:
        for kind in ("before:run ", "update:run ", "after:run "):
            sub.setsockopt(zmq.SUBSCRIBE, (kind + a.chain).encode())
        sub.setsockopt(zmq.SUBSCRIBE, b"heartbeat")
    else:
        sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(a.events)
    time.sleep(0.2)  # let the subscription reach the daemon before the snapshot

    def snapshot():
        snap = request(a.requests, {"type": "snapshot"}, a.timeout, curve)
        return snap["seq"], snap["epoch"]

    try:
        seq, epoch = snapshot()
    except TimeoutError as e:
        print(e, file=sys.stderr)
        return 3
    print(f"snapshot seq={seq} epoch={epoch}", flush=True)
    seen = gaps = 0
    while not a.count or seen < a.count:
        if not sub.poll(int(a.timeout * 1000)):
            print("no events", file=sys.stderr)
            return 1
        topic, body = sub.recv_multipart()
        env = json.loads(body)
        if env["event"] == "heartbeat":
            if env["epoch"] != epoch or (not a.chain and env["seq"] > seq):
                gaps += 1
                seq, epoch = snapshot()
            continue
        if env["epoch"] == epoch and env["seq"] <= seq:
            continue  # already in the snapshot
        if env["epoch"] != epoch or (not a.chain and env["seq"] != seq + 1):
            gaps += 1
            print(f"gap at seq {env['seq']} (expected {seq + 1}): resyncing", flush=True)
            seq, epoch = snapshot()
            if env["seq"] <= seq:
                continue
        seq = env["seq"]
        seen += 1
        run = env["run"]
        print(f"{seq} {env['event']} {run['status']} {run.get('stepId') or run['operation']}", flush=True)
    print(json.dumps({"events": seen, "gaps": gaps, "last_seq": seq}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

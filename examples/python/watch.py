#!/usr/bin/env python3
"""Watch every run event of `coworker serve`, with no gap (the ZeroMQ Guide's Clone pattern).

    python3 examples/python/watch.py [--events tcp://127.0.0.1:5571]
        [--requests tcp://127.0.0.1:5570] [--count N] [--chain RUN_ID] [--timeout 30]
        [--curve-server-key KEY|FILE --curve-key FILE]

Client.watch (clients/python, docs/clients.md) subscribes, then asks for a snapshot, drops events
the snapshot already holds, and on a gap (a seq that is not last + 1, a heartbeat ahead of us, a
restarted daemon) takes a new snapshot. Prints one line per event: seq, event, status, step (and
one per gap). With --count, exits after N events and prints a final JSON line {"events": N, "gaps": G,
"last_seq": S}. Exit 3 when the daemon does not answer, 1 after --timeout seconds without events.
CURVE as in submit.py.
"""
import argparse
import json
import os
import sys

try:
    from coworker_client import Client
except ImportError:  # not installed (pip install clients/python): use the one in this checkout
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../clients/python"))
    from coworker_client import Client

from submit import add_curve_arguments, curve_keys


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", default="tcp://127.0.0.1:5571")
    p.add_argument("--requests", default="tcp://127.0.0.1:5570")
    p.add_argument("--count", type=int, default=0, help="stop after this many events")
    p.add_argument("--chain", help="only events of this chain")
    p.add_argument("--timeout", type=float, default=30.0, help="give up after this long without events")
    add_curve_arguments(p)
    a = p.parse_args()

    client = Client(requests=a.requests, events=a.events, curve=curve_keys(a), timeout=a.timeout)
    seq, seen, gaps = None, 0, 0  # seq: the last one applied, None before the snapshot
    try:
        for ev in client.watch(chain_id=a.chain, timeout=a.timeout):
            if ev["event"] == "snapshot":
                print(f"snapshot seq={ev['seq']} epoch={ev['epoch']}", flush=True)
            elif ev["event"] == "resync":  # something was missed: the client took a new snapshot
                gaps += 1
                print(f"gap after seq {seq}: resynced at seq={ev['seq']} epoch={ev['epoch']}", flush=True)
            else:
                seen += 1
                run = ev["run"]
                print(f"{ev['seq']} {ev['event']} {run['status']} {run.get('stepId') or run['operation']}", flush=True)
            seq = ev["seq"]
            if a.count and seen >= a.count:
                break
    except TimeoutError as e:
        print(e, file=sys.stderr)
        return 3 if seq is None else 1  # no snapshot: the daemon did not answer
    finally:
        client.close()
    print(json.dumps({"events": seen, "gaps": gaps, "last_seq": seq}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

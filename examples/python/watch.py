#!/usr/bin/env python3
"""Watch every run event of `coworker serve`, or of every node of a cluster, with no gap (the ZeroMQ
Guide's Clone pattern).

    python3 examples/python/watch.py [--events tcp://127.0.0.1:5571]
        [--requests tcp://127.0.0.1:5570] [--cluster] [--count N] [--chain RUN_ID] [--timeout 30] [--json]
        [--curve-server-key KEY|FILE --curve-key FILE]

Given --requests and --events once per node (in the same order), it follows each node of a cluster
on its own (watch_cluster, docs/cluster.md "Events"); each line then starts with the node's stream.
With --cluster, it asks the node at --requests for the live nodes (Client.cluster) and follows each.
--json prints each event as one JSON line ({"event", "stream", "seq", "epoch", "runId", "chainId",
"status"}; snapshots and resyncs with "node") instead.

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
    from coworker_client import Client, watch_cluster
except ImportError:  # not installed (pip install clients/python): use the one in this checkout
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../clients/python"))
    from coworker_client import Client, watch_cluster

from submit import add_curve_arguments, curve_keys


def line(ev, several):
    """One line for an event (or a snapshot, or a resync)."""
    where = f"{ev.get('stream')} " if several else ""
    if ev["event"] == "snapshot":
        return f"{where}snapshot seq={ev['seq']} epoch={ev['epoch']}"
    if ev["event"] == "resync":  # something was missed: the client took a new snapshot
        return f"{where}gap: resynced at seq={ev['seq']} epoch={ev['epoch']}"
    run = ev["run"]
    return f"{where}{ev['seq']} {ev['event']} {run['status']} {run.get('stepId') or run['operation']}"


def as_json(ev):
    if ev["event"] in ("snapshot", "resync"):
        return json.dumps({k: ev.get(k) for k in ("event", "node", "stream", "seq", "epoch")})
    run = ev["run"]
    return json.dumps({"event": ev["event"], "stream": ev.get("stream"), "seq": ev["seq"], "epoch": ev["epoch"],
                       "runId": run["id"], "chainId": run["chainId"], "status": run["status"]})


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", action="append", help="an events endpoint (default tcp://127.0.0.1:5571); once per node")
    p.add_argument("--requests", action="append", help="a request endpoint (default tcp://127.0.0.1:5570); once per node")
    p.add_argument("--cluster", action="store_true", help="follow every node the node at --requests lists")
    p.add_argument("--count", type=int, default=0, help="stop after this many events")
    p.add_argument("--chain", help="only events of this chain")
    p.add_argument("--timeout", type=float, default=30.0, help="give up after this long without events")
    p.add_argument("--json", action="store_true", help="one JSON line per event")
    add_curve_arguments(p)
    a = p.parse_args()
    events = a.events or ["tcp://127.0.0.1:5571"]
    requests = a.requests or ["tcp://127.0.0.1:5570"]
    if a.cluster:
        if len(requests) > 1 or a.events:
            p.error("--cluster: give one --requests (a node of the cluster) and no --events")
        try:
            clients = Client(requests=requests[0], curve=curve_keys(a), timeout=a.timeout).cluster()
        except TimeoutError as e:
            print(f"watch: {e}", file=sys.stderr)
            return 3
    elif len(events) != len(requests):
        p.error(f"give one --events for each --requests ({len(requests)} --requests, {len(events)} --events)")
    else:
        clients = [Client(requests=r, events=e, curve=curve_keys(a), timeout=a.timeout) for r, e in zip(requests, events)]
    several = len(clients) > 1
    synced, seen, gaps, seq = 0, 0, 0, None  # seq: the last one applied, None before the snapshots
    try:
        for ev in watch_cluster(clients, chain_id=a.chain, timeout=a.timeout):
            if ev["event"] == "snapshot":
                synced += 1
            elif ev["event"] == "resync":
                gaps += 1
            else:
                seen += 1
            seq = ev["seq"]
            print(as_json(ev) if a.json else line(ev, several), flush=True)
            if a.count and seen >= a.count:
                break
    except TimeoutError as e:
        print(e, file=sys.stderr)
        return 3 if synced < len(clients) else 1  # no snapshot: a daemon did not answer
    finally:
        for c in clients:
            c.close()
    print(json.dumps({"events": seen, "gaps": gaps, "last_seq": seq}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

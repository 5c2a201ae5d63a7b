#!/usr/bin/env python3
"""Throughput of a cluster (docs/cluster.md): 1, 2 and 3 `coworker serve` nodes on this machine over
one PostgreSQL database. W1-shaped chains (a `run` of 10 `log` steps) are sent round-robin, 64 in
flight per node, through each node's requests socket; the clock stops when the store holds every
chain completed.

    bench/cluster.py /path/to/coworker postgresql://server/postgres [--chains N] [--nodes 1,2,3]

Start a server with `scripts/postgres.sh start DIR` (its URL is in DIR/url).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import zmq

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
from ports import free_ports  # noqa: E402

STEPS = 10
IN_FLIGHT = 64


def psql(url, sql):
    return subprocess.run(["psql", "-AtX", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def fresh_database(server, name):
    psql(server, f"DROP DATABASE IF EXISTS {name}")
    psql(server, f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + "/" + name


def chain(i):
    return {"operation": "run", "input": {"i": i}, "children": [{"operation": "log", "input": {"k": k}} for k in range(STEPS)]}


def start(binary, db, name, tmp):
    req, ev = [f"tcp://127.0.0.1:{p}" for p in free_ports(2)]
    log = open(os.path.join(tmp, f"{name}.log"), "w")
    proc = subprocess.Popen([binary, "serve", "--db", db, "--node", name, "--requests", req, "--events", ev,
                             "--workers", "none"], stderr=log)
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(req)
    deadline = time.time() + 30
    while time.time() < deadline:
        sock.send_multipart([b"", b'{"type":"ping"}'])
        if sock.poll(500):
            sock.recv_multipart()
            return proc, sock
    raise RuntimeError(f"node {name} did not answer")


def one(binary, server, nodes, chains, tmp):
    db = fresh_database(server, f"bench_cluster_{nodes}")
    started = [start(binary, db, f"n{k}", tmp) for k in range(nodes)]
    socks = [s for _, s in started]
    poller = zmq.Poller()
    for s in socks:
        poller.register(s, zmq.POLLIN)
    state = {"next": 0, "acked": 0}

    def send_next():
        i = state["next"]
        socks[i % nodes].send_multipart([b"", json.dumps({"type": "run", "chain": chain(i)}).encode()])
        state["next"] = i + 1

    t0 = time.perf_counter()
    while state["next"] < min(chains, IN_FLIGHT * nodes):
        send_next()
    while state["acked"] < chains:
        for s, _ in poller.poll(1000):
            while True:
                try:
                    reply = json.loads(s.recv_multipart(zmq.NOBLOCK)[-1])
                except zmq.Again:
                    break
                assert reply.get("ok"), reply
                state["acked"] += 1
                if state["next"] < chains:
                    send_next()
    while int(psql(db, "SELECT count(*) FROM runs WHERE owner IS NULL AND status = 'completed'")) < chains:
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    for proc, sock in started:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        sock.close()
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("server")
    ap.add_argument("--chains", type=int, default=2000)
    ap.add_argument("--nodes", default="1,2,3")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="coworker-bench-cluster-")
    for n in [int(x) for x in a.nodes.split(",")]:
        elapsed = one(a.binary, a.server, n, a.chains, tmp)
        print(json.dumps({"nodes": n, "chains": a.chains, "steps_per_s": round(a.chains * STEPS / elapsed),
                          "chains_per_s": round(a.chains / elapsed), "seconds": round(elapsed, 2)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The PostgreSQL server restarts under a running daemon (docs/store.md, "When the server goes away";
docs/cluster.md). The daemon's connections break; it reconnects between transactions and goes on:
every chain in flight at the restart completes, nothing acknowledged is lost, and new chains are
accepted again without restarting the daemon. The server is one of its own (scripts/postgres.sh),
restarted with every connection cut (pg_ctl -m immediate).

    postgres_restart.py /path/to/coworker /path/to/source
"""
import json
import os
import subprocess
import sys
import time

import zmq

from ports import free_ports
from scratch import passed, scratch_dir

CHAINS = 60


def chain(i):
    return {"operation": "run", "input": {"i": i}, "children": [
        {"id": "w1", "operation": "wait", "input": {"ms": 400}},
        {"id": "l", "operation": "log", "input": {"i": i}},
        {"id": "w2", "operation": "wait", "input": {"ms": 400}}]}


def psql(url, sql):
    return subprocess.run(["psql", "-AtX", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def main():
    binary, source = sys.argv[1], sys.argv[2]
    tmp = scratch_dir("coworker-pgrestart-")
    state = os.path.join(tmp, "pg")
    script = os.path.join(source, "scripts", "postgres.sh")
    subprocess.run([script, "start", state], check=True)
    log_path = os.path.join(tmp, "serve.log")
    proc = None
    try:
        url = open(os.path.join(state, "url")).read().strip()
        req, ev = [f"tcp://127.0.0.1:{p}" for p in free_ports(2)]
        proc = subprocess.Popen([binary, "serve", "--db", url, "--requests", req, "--events", ev, "--workers", "none"],
                                stderr=open(log_path, "w"))
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(req)

        def call(r, timeout=30):
            sock.send_multipart([b"", json.dumps(r).encode()])
            assert sock.poll(timeout * 1000), f"no answer to {r['type']}"
            return json.loads(sock.recv_multipart()[-1])

        deadline = time.time() + 30
        while not call({"type": "ping"}).get("ok"):
            assert time.time() < deadline
        ids = []
        for i in range(CHAINS):
            r = call({"type": "run", "chain": chain(i)})
            assert r["ok"], r
            ids.append(r["runId"])
        subprocess.run([script, "restart", state], check=True)
        print("server restarted with chains in flight", flush=True)

        # New chains: refused `unavailable` while the daemon has not written again, then accepted.
        deadline = time.time() + 30
        while True:
            r = call({"type": "run", "chain": chain(CHAINS)})
            if r["ok"]:
                ids.append(r["runId"])
                break
            assert r["error"]["code"] == "unavailable", r
            assert time.time() < deadline, f"still refused: {r}"
            time.sleep(0.1)
        deadline = time.time() + 60
        while True:
            done = int(psql(url, "SELECT count(*) FROM runs WHERE owner IS NULL AND status = 'completed'"))
            if done == len(ids):
                break
            assert time.time() < deadline, f"{done} of {len(ids)} chains completed"
            time.sleep(0.2)
        statuses = psql(url, "SELECT string_agg(DISTINCT status, ',') FROM runs WHERE owner IS NULL")
        assert statuses == "completed", statuses
        assert proc.poll() is None, "the daemon is still running"
        logs = open(log_path).read()
        assert "the store writes again" in logs, "the broken connection was noticed and healed"
        print(f"ok: {len(ids)} chains completed across the restart, the daemon kept running", flush=True)
        assert "lost its lease" not in logs, logs[-2000:]
        sock.close()
        return 0
    except BaseException:
        if os.path.exists(log_path):
            sys.stderr.write(open(log_path).read()[-4000:])
        raise
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
        subprocess.run([script, "stop", state])


if __name__ == "__main__":
    rc = main()
    if rc == 0:
        passed()  # after main's `finally` stopped the server whose files are there
    sys.exit(rc)

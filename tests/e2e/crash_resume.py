#!/usr/bin/env python3
"""The real crash test (issue: durability): kill -9 a busy `coworker serve`, start it again, and
check that every chain finishes, that no step which had completed before the kill ran again, that
no completed run record was lost, and that seq continues under a new epoch. Repeated 3 times.

    crash_resume.py /path/to/coworker [rounds] [postgresql://server/postgres]

With a PostgreSQL server's URL, each round's store is a fresh database on it (read back with psql)
instead of a SQLite file (docs/store.md, "Two databases").
"""
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import zmq

from ports import free_ports
from scratch import passed, scratch_dir

CHAINS = 300


def chain(i):
    steps = []
    for k in (1, 2, 3):
        steps.append({"id": f"s{k}", "operation": "create", "doctype": "Exec",
                      "input": {"data": {"chain": i, "step": k}}})
        if k < 3:
            steps.append({"id": f"w{k}", "operation": "wait", "input": {"ms": 150}})
    return {"operation": "run", "input": {"i": i}, "children": steps}


class Daemon:
    def __init__(self, binary, db, log):
        self.req, self.ev = [f"tcp://127.0.0.1:{p}" for p in free_ports(2)]
        self.log = open(log, "a")
        self.proc = subprocess.Popen([binary, "serve", "--db", db, "--requests", self.req, "--events", self.ev,
                                      "--workers", "none"],
                                     stderr=self.log)
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(self.req)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if self.call({"type": "ping"}, timeout=0.5).get("ok"):
                    return
            except TimeoutError:
                pass
        raise RuntimeError("serve did not answer ping")

    def call(self, req, timeout=30.0):
        self.sock.send_multipart([b"", json.dumps(req).encode()])
        if not self.sock.poll(int(timeout * 1000)):
            # A lost reply would confuse the next call: use a fresh socket.
            self.sock.close()
            self.sock = zmq.Context.instance().socket(zmq.DEALER)
            self.sock.setsockopt(zmq.LINGER, 0)
            self.sock.connect(self.req)
            raise TimeoutError(req["type"])
        return json.loads(self.sock.recv_multipart()[-1])

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.sock.close()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=15)
        self.sock.close()


class Psql:
    """The few reads this test makes, on a PostgreSQL database through psql (one JSON value each)."""

    def __init__(self, url):
        self.url = url

    def execute(self, sql, params=()):
        for p in params:  # integers only: nothing to quote
            sql = sql.replace("?", str(int(p)), 1)
        out = subprocess.run(["psql", "-AtX", "-v", "ON_ERROR_STOP=1", self.url, "-c",
                              f"SELECT COALESCE(json_agg(row_to_json(q)), '[]')::text FROM ({sql}) q"],
                             check=True, capture_output=True, text=True).stdout
        return [tuple(row.values()) for row in json.loads(out)]

    def close(self):
        pass


def connect(db):
    return Psql(db) if db.startswith("postgresql://") else sqlite3.connect(db)


def new_store(tmp):
    """A SQLite file in `tmp`, or a fresh database on the PostgreSQL server of the command line."""
    if not PG_SERVER:
        return os.path.join(tmp, "crash.db")
    name = "crash_" + os.path.basename(tmp).replace("-", "_").lower()
    subprocess.run(["psql", "-qAtX", "-v", "ON_ERROR_STOP=1", PG_SERVER, "-c", f"CREATE DATABASE {name}"], check=True)
    return PG_SERVER.rsplit("/", 1)[0] + "/" + name


def snapshot_db(db):
    c = connect(db)
    records = {rid: (json.loads(rec) if isinstance(rec, str) else rec)
               for rid, rec in c.execute("SELECT id, record FROM run_records")}
    max_seq, = c.execute("SELECT COALESCE(MAX(seq),0) AS m FROM events")[0] if isinstance(c, Psql) else \
        c.execute("SELECT COALESCE(MAX(seq),0) FROM events").fetchone()
    epochs = [e for e, in c.execute("SELECT DISTINCT epoch FROM events")]
    c.close()
    return records, max_seq, epochs


def one_round(binary, rnd):
    tmp = scratch_dir("coworker-crash-")
    db, log = new_store(tmp), os.path.join(tmp, "serve.log")
    LOGS.append(log)
    d = Daemon(binary, db, log)
    ids = {}
    for i in range(CHAINS):
        r = d.call({"type": "run", "chain": chain(i), "key": f"chain-{i}"})
        assert r["ok"], r
        ids[r["runId"]] = i
    time.sleep(random.uniform(0.05, 0.25))
    d.kill9()

    before, seq_before, epochs_before = snapshot_db(db)
    done_steps = {(r["chainId"], r["stepId"]) for r in before.values()
                  if r["status"] == "completed" and (r.get("stepId") or "").startswith("s")}
    done_roots = {rid for rid, r in before.items() if r["ownerRunId"] is None and r["status"] == "completed"}
    print(f"round {rnd}: killed with {len(done_roots)} of {CHAINS} chains and {len(done_steps)} create steps done, "
          f"seq {seq_before}", flush=True)
    assert len(done_roots) < CHAINS, "the kill came too late to test anything"

    d = Daemon(binary, db, log)
    deadline = time.time() + 60
    while time.time() < deadline:
        runs = d.call({"type": "list", "limit": 10000})["runs"]
        finished = [r for r in runs if r["status"] not in ("pending", "running")]
        if len(finished) == CHAINS:
            break
        time.sleep(0.2)
    runs = d.call({"type": "list", "limit": 10000})["runs"]
    statuses = {}
    for r in runs:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    assert statuses == {"completed": CHAINS}, f"after restart: {statuses}"
    # Idempotency keys survived: resubmitting returns the same runs.
    for i in (0, CHAINS - 1):
        r = d.call({"type": "run", "chain": chain(i), "key": f"chain-{i}"})
        assert ids[r["runId"]] == i, r
    ping = d.call({"type": "ping"})
    d.stop()

    after, seq_after, _ = snapshot_db(db)
    c = connect(db)
    counts = {}
    for data, in c.execute("SELECT data FROM documents WHERE doctype='Exec'"):
        doc = json.loads(data)
        counts[(doc["chain"], doc["step"])] = counts.get((doc["chain"], doc["step"]), 0) + 1
    new_epochs = {e for e, in c.execute("SELECT DISTINCT epoch FROM events WHERE seq > ?", (seq_before,))}
    min_after, = list(c.execute("SELECT MIN(seq) AS m FROM events WHERE seq > ?", (seq_before,)))[0]
    c.close()

    # Every step of every chain ran; the ones that had completed before the kill ran exactly once.
    for rid, i in ids.items():
        for k in (1, 2, 3):
            n = counts.get((i, k), 0)
            assert n >= 1, f"chain {i} step {k} never ran"
            if (rid, f"s{k}") in done_steps:
                assert n == 1, f"chain {i} step {k} completed before the kill but ran {n} times"
    # No completed record was lost or changed.
    for rid, rec in before.items():
        if rec["status"] == "completed":
            assert rid in after and after[rid]["status"] == "completed", f"lost completed run {rid}"
            assert after[rid]["output"] == rec["output"], f"output of {rid} changed"
    # seq continues under a new epoch.
    assert min_after == seq_before + 1, f"seq after restart starts at {min_after}, want {seq_before + 1}"
    assert new_epochs and not (new_epochs & set(epochs_before)), f"epochs {new_epochs} vs {epochs_before}"
    assert ping["epoch"] in new_epochs
    reruns = sum(1 for v in counts.values() if v > 1)
    print(f"round {rnd}: ok ({reruns} steps that were running ran again)", flush=True)


LOGS = []
PG_SERVER = None


def main():
    binary = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    global PG_SERVER
    PG_SERVER = sys.argv[3] if len(sys.argv) > 3 else None
    random.seed(42)
    try:
        for rnd in range(1, rounds + 1):
            one_round(binary, rnd)
    except BaseException:
        for log in LOGS:  # what the daemon said, for the failure report
            with open(log) as f:
                sys.stderr.write(f"--- {log}\n" + f.read()[-4000:])
        raise
    passed()
    return 0


if __name__ == "__main__":
    sys.exit(main())

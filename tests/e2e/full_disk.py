#!/usr/bin/env python3
"""A real full disk under a durable `coworker serve` (docs/durability.md, "When the store cannot
write"): the store lives on a small tmpfs made by this test; chains of `wait` steps are in flight
when a file fills the disk. While it is full, nothing may be acknowledged or published that is not
stored, and new `run` requests get `unavailable`; once the file is removed, every held chain
completes, is published and acknowledged, and new chains run, without a restart. At the end the
SQLite file itself (and a restarted daemon) must hold every chain whose reply said completed and
every run whose event was published.

    full_disk.py /path/to/coworker        (as root: it mounts a tmpfs; exit 77 = skipped)
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import zmq

from ports import free_ports
from scratch import passed, scratch_dir

CHAINS = 120
PAYLOAD = "x" * 24_000  # every record of a chain carries it: the WAL must grow while the disk is full


def chain(i, ms=600):
    return {"operation": "run", "input": {"i": i, "pad": PAYLOAD},
            "children": [{"id": f"w{k}", "operation": "wait", "input": {"ms": ms}} for k in (1, 2, 3)]}


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


DAEMONS = []


class Daemon:
    def __init__(self, binary, db, log):
        self.req, self.ev = [f"tcp://127.0.0.1:{p}" for p in free_ports(2)]
        self.log_path = log
        self.proc = subprocess.Popen([binary, "serve", "--db", db, "--requests", self.req, "--events", self.ev,
                                      "--workers", "none"], stderr=open(log, "a"))
        DAEMONS.append(self.proc)
        self.ctx = zmq.Context.instance()
        self.sock = self.dealer()
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if self.call({"type": "ping"}, timeout=0.5).get("ok"):
                    return
            except TimeoutError:
                self.sock.close()
                self.sock = self.dealer()
        fail("serve did not answer ping")

    def dealer(self):
        s = self.ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(self.req)
        return s

    def call(self, req, timeout=30.0):
        self.sock.send_multipart([b"", json.dumps(req).encode()])
        if not self.sock.poll(int(timeout * 1000)):
            raise TimeoutError(req["type"])
        return json.loads(self.sock.recv_multipart()[-1])

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        if self.proc.wait(timeout=30) != 0:
            fail(f"serve exited {self.proc.returncode}")
        self.sock.close()


class Events(threading.Thread):
    """Every published event: run id → the last status published."""

    def __init__(self, endpoint):
        super().__init__(daemon=True)
        self.sock = zmq.Context.instance().socket(zmq.SUB)
        self.sock.setsockopt(zmq.SUBSCRIBE, b"")
        self.sock.connect(endpoint)
        self.runs = {}
        self.seqs = []
        self.stop = False
        self.start()

    def run(self):
        while not self.stop:
            if not self.sock.poll(100):
                continue
            topic, body = self.sock.recv_multipart()
            if topic == b"heartbeat":
                continue
            env = json.loads(body)
            self.seqs.append(env["seq"])
            self.runs[env["run"]["id"]] = env["run"]["status"]


def fill(path):
    """Writes zeros until the filesystem says it is full."""
    chunk = b"\0" * (1 << 20)
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass
        # The last partial megabyte too.
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass


def main():
    binary = sys.argv[1]
    if os.geteuid() != 0:
        print("SKIP: mounting a tmpfs needs root")
        sys.exit(77)
    tmp = scratch_dir("coworker-full-")
    mnt = os.path.join(tmp, "disk")
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt], check=True)
    try:
        run(binary, tmp, mnt)
    finally:
        for p in DAEMONS:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["umount", "-l", mnt])
        with open(os.path.join(tmp, "serve.log")) as f:
            print("serve.log (end):\n" + f.read()[-800:])
    passed("full disk: ok")


def run(binary, tmp, mnt):
    db = os.path.join(mnt, "c.db")
    log = os.path.join(tmp, "serve.log")
    d = Daemon(binary, db, log)
    events = Events(d.ev)
    time.sleep(0.3)  # the SUB's subscription reaches the PUB socket
    first = d.call({"type": "run", "chain": chain(-1, 1), "wait": True})
    if first.get("status") != "completed":
        fail(f"the first chain: {first}")

    # Chains in flight: each accepted (so stored) before the disk fills, then its end awaited on a
    # socket of its own: `run` with the same key and `wait` returns the existing run at its end.
    for i in range(CHAINS):
        r = d.call({"type": "run", "chain": chain(i), "key": f"c{i}"})
        if not r.get("ok"):
            fail(f"chain {i} not accepted: {r}")
    socks = []
    for i in range(CHAINS):
        s = d.dealer()
        s.send_multipart([b"", json.dumps({"type": "run", "chain": chain(i), "key": f"c{i}", "wait": True}).encode()])
        socks.append(s)
    fill(os.path.join(mnt, "fill"))

    # While the disk is full: new chains are refused with `unavailable` once a write has failed.
    deadline = time.time() + 30
    refused = None
    while time.time() < deadline:
        try:
            r = d.call({"type": "run", "chain": chain(10_000, 1)}, timeout=2.0)
        except TimeoutError:
            # Accepted just as the disk filled: its acknowledgement waits until it is stored. A
            # fresh socket for the next probe (this one's late reply must not answer it).
            d.sock.close()
            d.sock = d.dealer()
            continue
        if not r.get("ok"):
            refused = r
            break
        time.sleep(0.05)
    if not refused or refused["error"]["code"] != "unavailable":
        fail(f"no `unavailable` while the disk is full: {refused}")
    if not d.call({"type": "ping"}).get("ok"):
        fail("ping while the disk is full")
    # The chains in flight go on (their waits end) but nothing more is published or acknowledged.
    time.sleep(0.3)
    published_before = len(events.seqs)
    time.sleep(1.5)
    if len(events.seqs) != published_before:
        fail(f"{len(events.seqs) - published_before} events were published while the disk was full")
    replies = {}
    for i, s in enumerate(socks):
        if s.poll(0):
            replies[i] = json.loads(s.recv_multipart()[-1])
    published_while_full = dict(events.runs)
    print(f"disk full: {len(replies)} replies so far, {len(published_while_full)} runs published, refused: "
          f"{refused['error']['message'][:100]}", flush=True)

    os.remove(os.path.join(mnt, "fill"))  # space returns
    for i, s in enumerate(socks):
        if i in replies:
            continue
        if not s.poll(60_000):
            fail(f"chain {i}: no reply after space returned")
        replies[i] = json.loads(s.recv_multipart()[-1])
        s.close()
    bad = {i: r for i, r in replies.items() if r.get("status") != "completed"}
    if bad:
        fail(f"{len(bad)} chains did not complete, e.g. {list(bad.items())[:2]}")
    # A new chain: `unavailable` says "try again later" until the committer's retry (backoff up to
    # 1 s) has written what it held; when every chain had ended before the disk filled, nothing
    # above waited for that, so a client retries as a user would.
    deadline = time.time() + 30
    while True:
        after = d.call({"type": "run", "chain": chain(20_000, 1), "wait": True})
        if after.get("ok") is not False or after["error"]["code"] != "unavailable" or time.time() > deadline:
            break
        time.sleep(0.2)
    if after.get("status") != "completed":
        fail(f"a new chain after space returned: {after}")
    completed = {r["runId"] for r in replies.values()} | {first["runId"], after["runId"]}
    time.sleep(0.5)  # the last events reach the SUB socket
    events.stop = True
    seqs = events.seqs
    if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
        fail("the published seqs have a gap")
    d.stop()

    with open(log) as f:
        text = f.read()
    if text.count("the store cannot write") != 1 or text.count("the store writes again") != 1:
        fail("the log should say once that the store cannot write and once that it writes again:\n" + text[-2000:])

    # The file itself: every acknowledged chain and every published run is in it, as published.
    con = sqlite3.connect(db)
    stored = dict(con.execute("SELECT id, status FROM runs"))
    con.close()
    missing = [r for r in completed if stored.get(r) != "completed"]
    if missing:
        fail(f"{len(missing)} chains acknowledged completed are not completed in the store, e.g. {missing[:3]}")
    unstored = [r for r in events.runs if r not in stored]
    if unstored:
        fail(f"{len(unstored)} published runs are not in the store, e.g. {unstored[:3]}")
    # A restarted daemon on the same file sees them too.
    d = Daemon(binary, db, log)
    for r in list(completed)[:20]:
        got = d.call({"type": "get", "runId": r})
        if got.get("run", {}).get("status") != "completed":
            fail(f"after restart, {r}: {got}")
    d.stop()
    print(f"{len(completed)} chains acknowledged and stored; {len(events.runs)} published runs stored", flush=True)


if __name__ == "__main__":
    main()

"""A daemon's memory over a long life (docs/durability.md, "History"): N ten-step chains of `log`
with a 1 KB input, 64 at a time, through `coworker serve` in memory and on a SQLite file. The RSS is
sampled at N/2 and N: it must stay at most 100 MiB and flat (what is finished leaves memory). In
durable mode the oldest chain is still readable from the store, also after a restart.

usage: long_life.py COWORKER [N] — N defaults to 10,000; under the sanitizers (COWORKER_SANITIZED=1)
the run is shorter and the RSS is not judged (the sanitizers' own memory would be).
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import zmq

sys.path.insert(0, os.path.dirname(__file__))
from ports import free_ports  # noqa: E402

BINARY = sys.argv[1]
SANITIZED = os.environ.get("COWORKER_SANITIZED") == "1"
N = int(sys.argv[2]) if len(sys.argv) > 2 else (1000 if SANITIZED else 10_000)
LIMIT_MIB, FLAT_MIB = 100, 10
CHAIN = {"operation": "run", "children": [{"id": f"s{i}", "operation": "log"} for i in range(10)]}


def fail(msg):
    print("FAIL:", msg, flush=True)
    sys.exit(1)


class Daemon:
    def __init__(self, args):
        rq, ev = free_ports(2)
        self.endpoint = f"tcp://127.0.0.1:{rq}"
        self.proc = subprocess.Popen([BINARY, "serve", "--requests", self.endpoint, "--events", f"tcp://127.0.0.1:{ev}",
                                      "--workers", "none"] + args,
                                     # every `log` step logs its 1 KB input: 100 MB over a run
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.connect(self.endpoint)
        if self.call({"type": "ping"}, 10_000).get("ok") is not True:
            fail(f"no answer to ping from {' '.join(args)}")

    def call(self, request, timeout_ms=30_000):
        self.sock.send_multipart([b"", json.dumps(request).encode()])
        if not self.sock.poll(timeout_ms):
            fail(f"no reply to {request['type']}")
        return json.loads(self.sock.recv_multipart()[-1])

    def rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        fail("no VmRSS")

    def stop(self):
        self.sock.close(0)
        self.ctx.term()
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("serve did not stop on SIGTERM")


def run_chains(d, n):
    """Runs n chains, 64 in flight; returns (first chain id, last chain id, RSS at n/2, RSS at n)."""
    payload = {"text": "x" * 1000}
    inflight = sent = done = 0
    first = last = None
    half = None
    while done < n:
        while inflight < 64 and sent < n:
            d.sock.send_multipart([b"", json.dumps({"type": "run", "chain": CHAIN, "input": dict(payload, n=sent),
                                                    "wait": True}).encode()])
            sent += 1
            inflight += 1
        if not d.sock.poll(60_000):
            fail(f"no reply after {done} chains")
        reply = json.loads(d.sock.recv_multipart()[-1])
        inflight -= 1
        done += 1
        if reply.get("status") != "completed":
            fail(f"chain {done} did not complete: {str(reply)[:300]}")
        run_id = reply["runId"]
        first = first or run_id
        last = run_id
        if done == n // 2:
            half = d.rss_mib()
    return first, last, half, d.rss_mib()


def judge(mode, half, full):
    print(f"{mode}: RSS {half:.0f} MiB after {N // 2} chains, {full:.0f} MiB after {N}", flush=True)
    if SANITIZED:
        return
    if full > LIMIT_MIB:
        fail(f"{mode}: RSS {full:.0f} MiB after {N} chains (at most {LIMIT_MIB})")
    if full - half > FLAT_MIB:
        fail(f"{mode}: RSS grew {full - half:.0f} MiB from {N // 2} to {N} chains (at most {FLAT_MIB}: not flat)")


def main():
    with tempfile.TemporaryDirectory(prefix="coworker-long-") as tmp:
        d = Daemon(["--ephemeral"])
        first, last, half, full = run_chains(d, N)
        judge("memory", half, full)
        if d.call({"type": "get", "runId": last}).get("ok") is not True:
            fail("memory: the newest chain is not readable")
        d.stop()

        db = os.path.join(tmp, "long.db")
        d = Daemon(["--db", db])
        first, last, half, full = run_chains(d, N)
        judge("durable", half, full)
        for rid in (first, last):
            got = d.call({"type": "get", "runId": rid})
            if got.get("ok") is not True or got["run"]["status"] != "completed":
                fail(f"durable: chain {rid} is not readable: {str(got)[:300]}")
        d.stop()
        d = Daemon(["--db", db])  # a restart reads nothing finished, yet answers for the oldest
        got = d.call({"type": "get", "runId": first})
        if got.get("ok") is not True or got["run"]["status"] != "completed":
            fail(f"durable after a restart: the oldest chain is not readable: {str(got)[:300]}")
        print(f"durable after a restart: RSS {d.rss_mib():.0f} MiB", flush=True)
        d.stop()
    print("long life: ok")


if __name__ == "__main__":
    main()

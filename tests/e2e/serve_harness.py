"""A durable `coworker serve` for the end-to-end scripts (signals.py, schedules.py): started on free
loopback ports with a store file, a DEALER for requests, a SUB for the topics asked for, HTTP; every
wait bounded by SAFETY, every failure printed with the end of the daemon's log."""
import json
import os
import subprocess
import time
import urllib.error
import urllib.request

import zmq

from ports import free_ports
from scratch import scratch_dir

CTX = zmq.Context.instance()
SAFETY = 60.0  # a wait that reaches this is a hang, not a slow machine


class Run:
    """One test run: a temporary directory with the store file and the daemon's log."""

    def __init__(self, binary, name):
        self.binary = binary
        self.tmp = scratch_dir(f"coworker-{name}-")
        self.db = os.path.join(self.tmp, "serve.db")
        self.log = os.path.join(self.tmp, "serve.log")
        self.daemon = None

    def fail(self, msg):
        print(f"FAIL: {msg}", flush=True)
        print(open(self.log).read()[-3000:])
        if self.daemon and self.daemon.proc.poll() is None:
            self.daemon.proc.kill()
        os._exit(1)

    def check(self, cond, msg):
        if not cond:
            self.fail(msg)

    def start(self, topics, workers=False, same_ports=False, extra=()):
        """Starts a daemon on the store (again) and makes it the current one; with `workers`, its
        workers endpoint is open (`.workers`); with `same_ports`, on the endpoints of the last one
        (clients that stay connected reconnect to it); `extra`: more flags for `coworker serve`."""
        ports = self.daemon.ports if same_ports and self.daemon else None
        self.daemon = Daemon(self, topics, workers, ports, extra)
        return self.daemon


class Daemon:
    def __init__(self, run, topics, workers=False, ports=None, extra=()):
        self.run = run
        self.ports = ports or free_ports(4)
        req, ev, http, wk = self.ports
        self.req, self.ev, self.http = f"tcp://127.0.0.1:{req}", f"tcp://127.0.0.1:{ev}", f"http://127.0.0.1:{http}"
        self.workers = f"tcp://127.0.0.1:{wk}" if workers else "none"
        self.proc = subprocess.Popen([run.binary, "serve", "--db", run.db, "--requests", self.req, "--events", self.ev,
                                      "--workers", self.workers, "--http", f"127.0.0.1:{http}", *extra],
                                     stdout=open(run.log, "a"), stderr=subprocess.STDOUT)
        self.sock = CTX.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(self.req)
        self.sub = CTX.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        for t in list(topics) + ["heartbeat"]:
            self.sub.setsockopt(zmq.SUBSCRIBE, t.encode())
        self.sub.connect(self.ev)
        if self.call({"type": "ping"}, timeout=30).get("pong") is not True:
            run.fail("no pong")
        # The subscription is live once a heartbeat arrives (ZeroMQ's slow joiner).
        deadline = time.time() + SAFETY
        while time.time() < deadline:
            if self.sub.poll(1000) and self.sub.recv_multipart()[0] == b"heartbeat":
                return
        run.fail("no heartbeat")

    def call(self, req, timeout=SAFETY):
        self.sock.send_multipart([b"", json.dumps(req).encode()])
        if not self.sock.poll(int(timeout * 1000)):
            self.run.fail(f"no reply to {str(req)[:100]}")
        return json.loads(self.sock.recv_multipart()[-1])

    def post(self, path, body):
        req = urllib.request.Request(self.http + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=SAFETY) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def get(self, path):
        with urllib.request.urlopen(self.http + path, timeout=SAFETY) as r:
            return json.loads(r.read())

    def runs(self, match, what):
        """Yields the records of the events whose run `match`es, until the caller stops (or SAFETY)."""
        deadline = time.time() + SAFETY
        while time.time() < deadline:
            if not self.sub.poll(1000):
                continue
            topic, body = self.sub.recv_multipart()
            if topic == b"heartbeat":
                continue
            run = json.loads(body)["run"]
            if match(run):
                yield run
                deadline = time.time() + SAFETY
        self.run.fail(f"no more {what}")

    def stop(self, sig):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=SAFETY)
        self.sock.close()
        self.sub.close()

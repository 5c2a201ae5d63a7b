"""Client: requests to `coworker serve` (docs/protocol.md, "Requests") and its run events followed with
no gap (docs/protocol.md, "A reliable view")."""
from __future__ import annotations

import itertools
import json
import time
from typing import Any, Dict, Iterator, List, Optional

import zmq

from ._socket import Curve, secure


class CoworkerError(Exception):
    """A refused request: `code` (docs/errors.md), `message`, and `path`, the JSON Pointer of the place."""

    def __init__(self, code: str, message: str, path: Optional[str] = None):
        super().__init__(f"{path + ' ' if path else ''}{code}: {message}")
        self.code, self.message, self.path = code, message, path


class Client:
    """A connection to one daemon. Not thread-safe: use one Client per thread.

    `requests` and `events` are the daemon's endpoints; `curve` is (the daemon's public key, this
    client's secret key), each Z85 or a key file, for a daemon that requires CURVE; `timeout` (s)
    bounds every request that does not wait for a chain to end.
    """

    def __init__(self, requests: str = "tcp://127.0.0.1:5570", events: str = "tcp://127.0.0.1:5571",
                 curve: Curve = None, timeout: float = 30.0, context: Optional[zmq.Context] = None):
        self.requests, self.events, self.curve, self.timeout = requests, events, curve, timeout
        self._ctx = context or zmq.Context.instance()
        self._ids = itertools.count(1)
        self._sock: Optional[zmq.Socket] = None

    # --- requests ---------------------------------------------------------------------------

    def call(self, request: Dict[str, Any], timeout: Optional[float] = None) -> Dict[str, Any]:
        """Sends one request and returns its reply; raises CoworkerError when it is refused and
        TimeoutError when no reply comes in time (the connection is then made afresh)."""
        if self._sock is None:
            self._sock = self._ctx.socket(zmq.DEALER)
            self._sock.setsockopt(zmq.LINGER, 0)
            secure(self._sock, self.curve)
            self._sock.connect(self.requests)
        rid = next(self._ids)
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit

        def timed_out() -> TimeoutError:
            self._sock.close()
            self._sock = None  # a late reply must not answer the next request
            return TimeoutError(f"no reply from {self.requests} within {limit} s")

        # A DEALER without a peer (a daemon that refused the CURVE handshake) would wait to send for ever.
        self._sock.setsockopt(zmq.SNDTIMEO, max(1, int(limit * 1000)))
        try:
            self._sock.send_multipart([b"", json.dumps(dict(request, id=rid)).encode()])
        except zmq.Again:
            raise timed_out() from None
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self._sock.poll(int(left * 1000)):
                raise timed_out()
            reply = json.loads(self._sock.recv_multipart()[-1])
            if reply.get("id") not in (rid, None):
                continue  # the reply to a request given up on
            if not reply.get("ok"):
                e = reply.get("error", {})
                raise CoworkerError(e.get("code", "internal"), e.get("message", ""), e.get("path"))
            return reply

    def run(self, chain: Optional[Dict[str, Any]] = None, input: Any = None, wait: bool = True,
            key: Optional[str] = None, timeout: Optional[float] = None, chain_ref: Optional[str] = None,
            start_delay_ms: Optional[int] = None, traceparent: Optional[str] = None) -> Dict[str, Any]:
        """Starts a chain (or the published chain `chain_ref`, "name@3"). With `wait`, returns when
        it ends: {"runId", "status", "tree"}; else at once: {"runId", "status"}. `traceparent`: a W3C
        trace context the chain joins (docs/tracing.md)."""
        req: Dict[str, Any] = {"type": "run", "wait": wait}
        if chain_ref is not None:
            req["chainRef"] = chain_ref
        else:
            req["chain"] = chain
        if input is not None:
            req["input"] = input
        if key is not None:
            req["key"] = key
        if start_delay_ms is not None:
            req["startDelayMs"] = start_delay_ms
        if traceparent is not None:
            req["traceparent"] = traceparent
        reply = self.call(req, timeout if timeout is not None else (24 * 3600 if wait else None))
        reply.pop("ok", None)
        reply.pop("id", None)
        return reply

    def get(self, run_id: str, tree: bool = False) -> Dict[str, Any]:
        """A run record (with its descendants under "children" when `tree`)."""
        return self.call({"type": "get", "runId": run_id, "tree": tree})["run"]

    def list(self, status: Optional[str] = None, chain_id: Optional[str] = None, limit: int = 100) -> List[Dict[str, Any]]:
        """Records newest first: top chains, or the runs of one chain."""
        req: Dict[str, Any] = {"type": "list", "limit": limit}
        if status:
            req["status"] = status
        if chain_id:
            req["chainId"] = chain_id
        return self.call(req)["runs"]

    def cancel(self, run_id: str) -> None:
        self.call({"type": "cancel", "runId": run_id})

    def signal(self, key: Optional[str] = None, payload: Any = None, run_id: Optional[str] = None) -> Dict[str, Any]:
        """Sends a signal by key (or to the await step `run_id`): {"delivered": True, "runId"} or {"kept": True}."""
        req: Dict[str, Any] = {"type": "signal", "payload": payload}
        if run_id is not None:
            req["runId"] = run_id
        else:
            req["key"] = key
        return self.call(req)

    def redrive(self, run_id: str, dry_run: bool = False) -> Dict[str, Any]:
        """Continues a failed or cancelled chain: {"runId", "redrives", "wouldRun"}."""
        return self.call({"type": "redrive", "runId": run_id, "dryRun": dry_run})

    def publish(self, name: str, chain: Dict[str, Any], input_schema: Optional[Dict[str, Any]] = None,
                output_schema: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Publishes a chain as the next version of `name`: {"name", "version", "sha256", "created"}."""
        req: Dict[str, Any] = {"type": "publish", "name": name, "chain": chain}
        if input_schema is not None:
            req["inputSchema"] = input_schema
        if output_schema is not None:
            req["outputSchema"] = output_schema
        return self.call(req)

    def chains(self) -> List[Dict[str, Any]]:
        return self.call({"type": "chains"})["chains"]

    def snapshot(self, recent: int = 100) -> Dict[str, Any]:
        return self.call({"type": "snapshot", "recent": recent})

    def nodes(self) -> List[Dict[str, Any]]:
        """The live nodes of this daemon's cluster by name, each {"node", "self", "requests", "events",
        "workers"?, "http"?} as it advertised them; outside a cluster this daemon alone (docs/cluster.md,
        "Finding the nodes")."""
        return self.call({"type": "nodes"})["nodes"]

    def cluster(self) -> List["Client"]:
        """A Client for every live node of this daemon's cluster that has ZeroMQ endpoints, with this
        client's keys and timeout: what watch_cluster takes (watch_cluster(client.cluster()))."""
        return [Client(requests=n["requests"], events=n["events"], curve=self.curve, timeout=self.timeout, context=self._ctx)
                for n in self.nodes() if n.get("requests") and n.get("events")]

    # --- events -----------------------------------------------------------------------------

    def watch(self, chain_id: Optional[str] = None, timeout: Optional[float] = None) -> Iterator[Dict[str, Any]]:
        """Yields event envelopes ({"event", "seq", "epoch", "stream", "time", "run"}) in seq order,
        never with a gap: it subscribes, takes a snapshot (yielded first, as {"event": "snapshot",
        "seq", "epoch", "stream", "runs", "node": 0}), drops what the snapshot holds, and on a gap in
        seq or a new epoch (a daemon restart) takes a new snapshot, yielded as {"event": "resync",
        ...}. ZeroMQ reconnects by itself. `timeout` (s): raise TimeoutError after that long without
        any message (the daemon sends heartbeats); None waits for ever. With `chain_id`, only that
        chain's events (its seq is not contiguous then: gaps are detected by epoch only). To follow
        every node of a cluster, see watch_cluster."""
        return watch_cluster([self], chain_id, timeout)

    def _subscribe(self, chain_id: Optional[str]) -> zmq.Socket:
        sub = self._ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.RCVHWM, 0)
        secure(sub, self.curve)
        if chain_id:
            for kind in ("before:run ", "update:run ", "after:run "):
                sub.setsockopt(zmq.SUBSCRIBE, (kind + chain_id).encode())
            sub.setsockopt(zmq.SUBSCRIBE, b"heartbeat")
        else:
            sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(self.events)
        return sub

    def _fresh_snapshot(self) -> Dict[str, Any]:
        """A snapshot, asked again while the daemon restarts."""
        deadline = time.monotonic() + max(self.timeout, 60.0)
        while True:
            try:
                snap = self.call({"type": "snapshot"})
                return {"seq": snap["seq"], "epoch": snap["epoch"], "stream": snap.get("stream"), "runs": snap["runs"]}
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _verdict(at: List[Any], epoch: str, seq: int, contiguous: bool) -> str:
    """The rules of one stream (docs/cluster.md, "Events"; the C++ side: src/core/stream_follower.hpp):
    "apply" (and the stream moves to seq), "drop" (the snapshot holds it) or "resync"."""
    if epoch != at[0]:
        return "resync"
    if seq <= at[1]:
        return "drop"
    if contiguous and seq != at[1] + 1:
        return "resync"
    at[1] = seq
    return "apply"


def watch_cluster(clients: List[Client], chain_id: Optional[str] = None,
                  timeout: Optional[float] = None) -> Iterator[Dict[str, Any]]:
    """Follows the events of every node of a cluster (docs/cluster.md, "Events"), one Client per
    node: each node is a stream of its own, with its own epoch and seq, checked on its own. Yields a
    snapshot per node first ({"event": "snapshot", "node": i, "stream", "seq", "epoch", "runs"}),
    then the events of all of them as they come (each envelope names its "stream"); a gap or a
    restart of one node yields {"event": "resync", "node": i, ...} with that node's new snapshot,
    and the others go on. `timeout` (s): raise TimeoutError after that long without any message from
    any node. A node that dies goes silent; another node that takes its chains over publishes their
    events on its own stream."""
    contiguous = not chain_id
    ms = int(timeout * 1000) if timeout is not None else -1
    subs: List[zmq.Socket] = []
    try:
        for c in clients:
            subs.append(c._subscribe(chain_id))
        # A subscription is live once a first message arrives (ZeroMQ's slow joiner): heartbeats.
        pending: List[Any] = []
        for i, sub in enumerate(subs):
            if not sub.poll(ms):
                raise TimeoutError(f"no events from {clients[i].events}")
            pending.append((i, sub.recv_multipart()))
        at: List[List[Any]] = [["", 0] for _ in clients]

        def snapshot(i: int, kind: str) -> Dict[str, Any]:
            snap = clients[i]._fresh_snapshot()
            at[i] = [snap["epoch"], snap["seq"]]
            return dict(snap, event=kind, node=i)

        for i in range(len(clients)):
            yield snapshot(i, "snapshot")
        poller = zmq.Poller()
        for sub in subs:
            poller.register(sub, zmq.POLLIN)
        while True:
            if not pending:
                ready = dict(poller.poll(ms))
                if not ready:
                    raise TimeoutError(f"no events from {', '.join(c.events for c in clients)} within {timeout} s")
                pending = [(i, sub.recv_multipart()) for i, sub in enumerate(subs) if sub in ready]
            i, (topic, body) = pending.pop(0)
            env = json.loads(body)
            if env.get("event") == "heartbeat":
                if env["epoch"] != at[i][0] or (contiguous and env["seq"] > at[i][1]):
                    yield snapshot(i, "resync")
                continue
            verdict = _verdict(at[i], env["epoch"], env["seq"], contiguous)
            if verdict == "resync":
                yield snapshot(i, "resync")
                verdict = _verdict(at[i], env["epoch"], env["seq"], contiguous)  # again: older than it
            if verdict == "apply":
                yield env
    finally:
        for sub in subs:
            sub.close()

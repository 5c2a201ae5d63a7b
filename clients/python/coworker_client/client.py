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
        self._sock.send_multipart([b"", json.dumps(dict(request, id=rid)).encode()])
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self._sock.poll(int(left * 1000)):
                self._sock.close()
                self._sock = None  # a late reply must not answer the next request
                raise TimeoutError(f"no reply from {self.requests} within {timeout or self.timeout} s")
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

    # --- events -----------------------------------------------------------------------------

    def watch(self, chain_id: Optional[str] = None, timeout: Optional[float] = None) -> Iterator[Dict[str, Any]]:
        """Yields event envelopes ({"event", "seq", "epoch", "time", "run"}) in seq order, never with
        a gap: it subscribes, takes a snapshot (yielded first, as {"event": "snapshot", "seq",
        "epoch", "runs"}), drops what the snapshot holds, and on a gap in seq or a new epoch (a daemon
        restart) takes a new snapshot, yielded as {"event": "resync", ...}. ZeroMQ reconnects by
        itself. `timeout` (s): raise TimeoutError after that long without any message (the daemon
        sends heartbeats); None waits for ever. With `chain_id`, only that chain's events (its seq
        is not contiguous then: gaps are detected by epoch only)."""
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
        try:
            # The subscription is live once a first message arrives (ZeroMQ's slow joiner).
            if not sub.poll(int(timeout * 1000) if timeout is not None else -1):
                raise TimeoutError(f"no events from {self.events}")
            pending = [sub.recv_multipart()]
            snap = self._fresh_snapshot()
            seq, epoch = snap["seq"], snap["epoch"]
            yield dict(snap, event="snapshot")
            while True:
                if pending:
                    topic, body = pending.pop(0)
                else:
                    if not sub.poll(int(timeout * 1000) if timeout is not None else -1):
                        raise TimeoutError(f"no events from {self.events} within {timeout} s")
                    topic, body = sub.recv_multipart()
                env = json.loads(body)
                if env.get("event") == "heartbeat":
                    if env["epoch"] != epoch or (not chain_id and env["seq"] > seq):
                        snap = self._fresh_snapshot()
                        seq, epoch = snap["seq"], snap["epoch"]
                        yield dict(snap, event="resync")
                    continue
                if env["epoch"] == epoch and env["seq"] <= seq:
                    continue  # in the snapshot already
                if env["epoch"] != epoch or (not chain_id and env["seq"] != seq + 1):
                    snap = self._fresh_snapshot()
                    seq, epoch = snap["seq"], snap["epoch"]
                    yield dict(snap, event="resync")
                    if env["epoch"] != epoch or env["seq"] <= seq:
                        continue
                seq = env["seq"]
                yield env
        finally:
            sub.close()

    def _fresh_snapshot(self) -> Dict[str, Any]:
        """A snapshot, asked again while the daemon restarts."""
        deadline = time.monotonic() + max(self.timeout, 60.0)
        while True:
            try:
                snap = self.call({"type": "snapshot"})
                return {"seq": snap["seq"], "epoch": snap["epoch"], "runs": snap["runs"]}
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

"""Worker: serves operations to `coworker serve` as a remote worker (docs/protocol.md, "Workers")."""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import zmq

from ._socket import Curve, secure
from .client import CoworkerError

Handler = Callable[[Any, Dict[str, Any]], Any]


class Worker:
    """Serves operations: `@worker.operation("name")` registers a handler `fn(input, task)` whose
    return value is the step's output; raising CoworkerError(code, message) fails the step with that
    code, any other exception with `handler_error`. `capacity` tasks run at once, each on a thread of
    its own. `run()` serves until `stop()`: it heartbeats, and says hello again when the daemon does
    not know it (a restarted daemon), so a worker outlives the daemon's restarts. `endpoint` may be
    a list: the workers endpoints of every node of a cluster, each served over its own socket.
    """

    def __init__(self, endpoint: Union[str, Sequence[str]] = "tcp://127.0.0.1:5572", capacity: int = 1,
                 curve: Curve = None, context: Optional[zmq.Context] = None):
        if not 1 <= capacity <= 1000:
            raise ValueError("capacity is 1 to 1,000")
        self.endpoints = [endpoint] if isinstance(endpoint, str) else list(dict.fromkeys(endpoint))  # each once
        if not self.endpoints:
            raise ValueError("no endpoint")
        self.endpoint, self.capacity, self.curve = self.endpoints[0], capacity, curve
        self._ctx = context or zmq.Context.instance()
        self._handlers: Dict[str, Tuple[Handler, Optional[Dict[str, Any]]]] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._welcomed: set = set()  # the endpoints whose daemon accepted the hello
        self.served = 0
        self.welcomed = threading.Event()  # set once every daemon accepted the hello (again after a restart)

    def operation(self, name: str, input_schema: Optional[Dict[str, Any]] = None) -> Callable[[Handler], Handler]:
        """Registers the decorated function as the handler of operation `name`."""
        def register(fn: Handler) -> Handler:
            self._handlers[name] = (fn, input_schema)
            return fn
        return register

    def stop(self) -> None:
        self._stop.set()

    def _hello(self, capacity: int) -> Dict[str, Any]:
        ops = [{"name": n, "inputSchema": s} if s is not None else n for n, (_, s) in self._handlers.items()]
        return {"type": "hello", "capacity": capacity, "operations": ops}

    def _welcome(self, endpoint: str, yes: bool) -> None:
        with self._lock:
            (self._welcomed.add if yes else self._welcomed.discard)(endpoint)
            if len(self._welcomed) == len(self.endpoints):
                self.welcomed.set()
            else:
                self.welcomed.clear()

    def _answer(self, task: Dict[str, Any]) -> Dict[str, Any]:
        handler = self._handlers.get(task.get("operation"))
        if handler is None:  # the daemon sent what this worker does not serve: the step fails, not the worker
            return {"type": "error", "taskId": task.get("taskId"),
                    "error": {"code": "unknown_operation", "message": f"this worker does not serve {task.get('operation')!r}"}}
        fn, _ = handler
        try:
            return {"type": "result", "taskId": task["taskId"], "output": fn(task.get("input"), task)}
        except CoworkerError as e:
            return {"type": "error", "taskId": task["taskId"], "error": {"code": e.code, "message": e.message}}
        except Exception as e:  # a handler's failure is the step's, never the worker's
            return {"type": "error", "taskId": task["taskId"],
                    "error": {"code": "handler_error", "message": f"{type(e).__name__}: {e}"}}

    def run(self) -> None:
        """Serves until stop() is called: one daemon, or every node of a cluster it was given
        (docs/cluster.md, "Workers"), each on a thread of its own, with capacity // nodes (at least
        1) tasks offered by each."""
        if not self._handlers:
            raise ValueError("no operations: register one with @worker.operation(name)")
        share = max(1, self.capacity // len(self.endpoints))
        pool = ThreadPoolExecutor(max_workers=max(self.capacity, share * len(self.endpoints)))
        try:
            if len(self.endpoints) == 1:
                self._serve(self.endpoints[0], share, pool)
                return
            threads = [threading.Thread(target=self._serve, args=(e, share, pool), daemon=True) for e in self.endpoints]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            pool.shutdown(wait=False)

    def _serve(self, endpoint: str, capacity: int, pool: ThreadPoolExecutor) -> None:
        sock = self._ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        secure(sock, self.curve)
        sock.connect(endpoint)
        running: List[Future] = []
        beat = 1.0
        try:
            sock.send_json(self._hello(capacity))
            last_sent = time.monotonic()
            while not self._stop.is_set():
                if sock.poll(50 if running else 200):
                    msg = json.loads(sock.recv_multipart()[-1])
                    kind = msg.get("type")
                    if kind == "welcome":
                        beat = msg.get("heartbeatMs", 1000) / 1000.0
                        self._welcome(endpoint, True)
                    elif kind == "task":
                        running.append(pool.submit(self._answer, msg))
                    elif kind == "error" and msg.get("error", {}).get("code") == "not_registered":
                        self._welcome(endpoint, False)  # a daemon that does not know us (it restarted): hello again
                        sock.send_json(self._hello(capacity))
                        last_sent = time.monotonic()
                for f in [f for f in running if f.done()]:
                    running.remove(f)
                    sock.send_json(f.result())
                    with self._lock:
                        self.served += 1
                    last_sent = time.monotonic()
                if time.monotonic() - last_sent >= beat / 2:
                    sock.send_json({"type": "heartbeat"})
                    last_sent = time.monotonic()
            try:
                sock.send_json({"type": "bye"})
            except zmq.ZMQError:
                pass
        finally:
            sock.close()

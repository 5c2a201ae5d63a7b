"""Worker: serves operations to `coworker serve` as a remote worker (docs/protocol.md, "Workers")."""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Tuple

import zmq

from ._socket import Curve, secure
from .client import CoworkerError

Handler = Callable[[Any, Dict[str, Any]], Any]


class Worker:
    """Serves operations: `@worker.operation("name")` registers a handler `fn(input, task)` whose
    return value is the step's output; raising CoworkerError(code, message) fails the step with that
    code, any other exception with `handler_error`. `capacity` tasks run at once, each on a thread of
    its own. `run()` serves until `stop()`: it heartbeats, and says hello again when the daemon does
    not know it (a restarted daemon), so a worker outlives the daemon's restarts.
    """

    def __init__(self, endpoint: str = "tcp://127.0.0.1:5572", capacity: int = 1, curve: Curve = None,
                 context: Optional[zmq.Context] = None):
        if not 1 <= capacity <= 1000:
            raise ValueError("capacity is 1 to 1,000")
        self.endpoint, self.capacity, self.curve = endpoint, capacity, curve
        self._ctx = context or zmq.Context.instance()
        self._handlers: Dict[str, Tuple[Handler, Optional[Dict[str, Any]]]] = {}
        self._stop = threading.Event()
        self.served = 0
        self.welcomed = threading.Event()  # set once the daemon accepted the hello (again after a restart)

    def operation(self, name: str, input_schema: Optional[Dict[str, Any]] = None) -> Callable[[Handler], Handler]:
        """Registers the decorated function as the handler of operation `name`."""
        def register(fn: Handler) -> Handler:
            self._handlers[name] = (fn, input_schema)
            return fn
        return register

    def stop(self) -> None:
        self._stop.set()

    def _hello(self) -> Dict[str, Any]:
        ops = [{"name": n, "inputSchema": s} if s is not None else n for n, (_, s) in self._handlers.items()]
        return {"type": "hello", "capacity": self.capacity, "operations": ops}

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
        """Serves until stop() is called."""
        if not self._handlers:
            raise ValueError("no operations: register one with @worker.operation(name)")
        sock = self._ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        secure(sock, self.curve)
        sock.connect(self.endpoint)
        pool = ThreadPoolExecutor(max_workers=self.capacity)
        running: List[Future] = []
        beat = 1.0
        try:
            sock.send_json(self._hello())
            last_sent = time.monotonic()
            while not self._stop.is_set():
                if sock.poll(50 if running else 200):
                    msg = json.loads(sock.recv_multipart()[-1])
                    kind = msg.get("type")
                    if kind == "welcome":
                        beat = msg.get("heartbeatMs", 1000) / 1000.0
                        self.welcomed.set()
                    elif kind == "task":
                        running.append(pool.submit(self._answer, msg))
                    elif kind == "error" and msg.get("error", {}).get("code") == "not_registered":
                        self.welcomed.clear()  # a daemon that does not know us (it restarted): hello again
                        sock.send_json(self._hello())
                        last_sent = time.monotonic()
                for f in [f for f in running if f.done()]:
                    running.remove(f)
                    sock.send_json(f.result())
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
            pool.shutdown(wait=False)
            sock.close()

#!/usr/bin/env python3
"""A remote worker that misbehaves, for tests/cli/containment.sh.

    hog_worker.py WORKERS_ENDPOINT

Serves `hog`: allocates without end. Its address space is capped (RLIMIT_AS) the way a deployment
caps a worker with ulimit or a cgroup, so it dies of MemoryError instead of taking the machine.
"""
import resource
import sys

import zmq

resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))
sock = zmq.Context.instance().socket(zmq.DEALER)
sock.setsockopt(zmq.LINGER, 0)
sock.connect(sys.argv[1])
sock.send_json({"type": "hello", "capacity": 1, "operations": [{"name": "hog"}]})
hoard = []
while True:
    if not sock.poll(500):
        sock.send_json({"type": "heartbeat"})
        continue
    msg = sock.recv_json()
    if msg["type"] == "welcome":
        print("hog: serving", flush=True)
    elif msg["type"] == "task":
        print("hog: allocating without end", flush=True)
        while True:  # MemoryError ends the process: no answer, no more heartbeats
            hoard.append(bytearray(16 << 20))

#!/usr/bin/env python3
"""Submit a chain to `coworker serve` and print the reply.

    python3 examples/python/submit.py examples/hello.json [--wait] [--key K]
        [--requests tcp://127.0.0.1:5570] [--timeout 10]

A request is one JSON frame sent with a DEALER socket (an empty delimiter frame first, as REQ
would); the reply is one JSON frame. See docs/protocol.md.
"""
import argparse
import json
import sys

import zmq


def request(endpoint, req, timeout_s):
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    sock.send_multipart([b"", json.dumps(req).encode()])
    if not sock.poll(int(timeout_s * 1000)):
        raise TimeoutError(f"no reply from {endpoint} within {timeout_s} s")
    reply = json.loads(sock.recv_multipart()[-1])
    sock.close()
    return reply


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("chain", help="chain JSON file")
    p.add_argument("--wait", action="store_true", help="wait for the chain to end")
    p.add_argument("--key", help="idempotency key")
    p.add_argument("--requests", default="tcp://127.0.0.1:5570")
    p.add_argument("--timeout", type=float, default=10.0)
    a = p.parse_args()
    with open(a.chain) as f:
        chain = json.load(f)
    req = {"type": "run", "chain": chain, "wait": a.wait}
    if a.key:
        req["key"] = a.key
    reply = request(a.requests, req, a.timeout if not a.wait else 3600)
    print(json.dumps(reply, indent=2))
    if not reply.get("ok"):
        return 2
    return 0 if not a.wait or reply["status"] == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Submit a chain to `coworker serve` and print the reply.

    python3 examples/python/submit.py examples/hello.json [--wait] [--key K]
        [--requests tcp://127.0.0.1:5570] [--timeout 10]
        [--curve-server-key KEY|FILE --curve-key FILE]

A request is one JSON frame sent with a DEALER socket (an empty delimiter frame first, as REQ
would); the reply is one JSON frame. See docs/protocol.md. Against a daemon that requires CURVE
(docs/security.md), give the daemon's public key and this client's secret key file (from
`coworker keygen`), or set COWORKER_CURVE_SERVER_KEY and COWORKER_CURVE_KEY.
"""
import argparse
import json
import os
import sys

import zmq


def read_key(key_or_file):
    """A Z85 key itself, or the one key in a key file of `coworker keygen` (# lines are comments)."""
    if len(key_or_file) == 40 and not os.path.exists(key_or_file):
        return key_or_file.encode()
    with open(key_or_file) as f:
        keys = [w[0] for w in (line.split() for line in f) if w and len(w[0]) == 40]
    if len(keys) != 1:
        raise ValueError(f"{key_or_file}: {len(keys)} keys where one was expected")
    return keys[0].encode()


def add_curve_arguments(p):
    p.add_argument("--curve-server-key", default=os.environ.get("COWORKER_CURVE_SERVER_KEY"),
                   help="CURVE: the daemon's public key or .pub file (env COWORKER_CURVE_SERVER_KEY)")
    p.add_argument("--curve-key", default=os.environ.get("COWORKER_CURVE_KEY"),
                   help="CURVE: this client's secret key file (env COWORKER_CURVE_KEY)")


def curve_keys(args):
    """(server public key, client secret key) from the arguments, or None for a plain client."""
    if not args.curve_server_key and not args.curve_key:
        return None
    if not args.curve_server_key or not args.curve_key:
        raise SystemExit("CURVE needs both --curve-server-key and --curve-key")
    return read_key(args.curve_server_key), read_key(args.curve_key)


def secure(sock, curve):
    """Makes sock a CURVE client when keys are given (before connect). A daemon that does not allow
    the key answers nothing at all: requests time out, subscribers receive nothing."""
    if curve:
        server_key, secret_key = curve
        sock.curve_serverkey = server_key
        sock.curve_secretkey = secret_key
        sock.curve_publickey = zmq.curve_public(secret_key)


def request(endpoint, req, timeout_s, curve=None):
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    secure(sock, curve)
    sock.connect(endpoint)
    sock.send_multipart([b"", json.dumps(req).encode()])
    if not sock.poll(int(timeout_s * 1000)):
        sock.close()
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
    add_curve_arguments(p)
    a = p.parse_args()
    with open(a.chain) as f:
        chain = json.load(f)
    req = {"type": "run", "chain": chain, "wait": a.wait}
    if a.key:
        req["key"] = a.key
    try:
        reply = request(a.requests, req, a.timeout if not a.wait else 3600, curve_keys(a))
    except TimeoutError as e:
        print(e, file=sys.stderr)
        return 3
    print(json.dumps(reply, indent=2))
    if not reply.get("ok"):
        return 2
    return 0 if not a.wait or reply["status"] == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())

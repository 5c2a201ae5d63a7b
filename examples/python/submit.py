#!/usr/bin/env python3
"""Submit a chain to `coworker serve` and print the reply.

    python3 examples/python/submit.py examples/hello.json [--wait] [--key K]
        [--requests tcp://127.0.0.1:5570] [--timeout 10]
        [--curve-server-key KEY|FILE --curve-key FILE]

Prints the reply as JSON: {"ok": true, "runId", "status"} (with "tree" after --wait), or
{"ok": false, "error": {"code", "message", "path"}} for a refused chain. Exit 0 when accepted (with
--wait: when the chain completed), 1 when it ended otherwise, 2 when refused, 3 when no reply came.
Against a daemon that requires CURVE (docs/security.md), give the daemon's public key and this
client's secret key file (from `coworker keygen`), or set COWORKER_CURVE_SERVER_KEY and
COWORKER_CURVE_KEY. Built on the Python client, clients/python (docs/clients.md).
"""
import argparse
import json
import os
import sys

try:
    from coworker_client import Client, CoworkerError
except ImportError:  # not installed (pip install clients/python): use the one in this checkout
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../clients/python"))
    from coworker_client import Client, CoworkerError


def add_curve_arguments(p):
    p.add_argument("--curve-server-key", default=os.environ.get("COWORKER_CURVE_SERVER_KEY"),
                   help="CURVE: the daemon's public key or .pub file (env COWORKER_CURVE_SERVER_KEY)")
    p.add_argument("--curve-key", default=os.environ.get("COWORKER_CURVE_KEY"),
                   help="CURVE: this client's secret key file (env COWORKER_CURVE_KEY)")


def curve_keys(args):
    """(the daemon's public key, this client's secret key), each a key or a key file, as Client and
    Worker take them; None for a plain client. A daemon that does not allow the key answers nothing
    at all: requests time out, subscribers receive nothing."""
    if not args.curve_server_key and not args.curve_key:
        return None
    if not args.curve_server_key or not args.curve_key:
        raise SystemExit("CURVE needs both --curve-server-key and --curve-key")
    return args.curve_server_key, args.curve_key


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("chain", help="chain JSON file")
    p.add_argument("--wait", action="store_true", help="wait for the chain to end")
    p.add_argument("--key", help="idempotency key")
    p.add_argument("--requests", default="tcp://127.0.0.1:5570")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a reply (without --wait)")
    add_curve_arguments(p)
    a = p.parse_args()
    with open(a.chain) as f:
        chain = json.load(f)

    client = Client(requests=a.requests, curve=curve_keys(a), timeout=a.timeout)
    try:
        reply = client.run(chain, wait=a.wait, key=a.key or None, timeout=3600 if a.wait else None)
    except CoworkerError as e:
        error = {"code": e.code, "message": e.message}
        if e.path is not None:
            error["path"] = e.path
        print(json.dumps({"error": error, "ok": False}, indent=2))  # the reply, as the daemon sent it
        return 2
    except TimeoutError as e:
        print(e, file=sys.stderr)
        return 3
    finally:
        client.close()
    print(json.dumps({"ok": True, **reply}, indent=2))
    return 0 if not a.wait or reply["status"] == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())

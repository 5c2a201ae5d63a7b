"""What Client and Worker share: CURVE keys on a socket."""
from __future__ import annotations

import os
from typing import Optional, Tuple

import zmq

Curve = Optional[Tuple[str, str]]  # (the daemon's public key, this client's secret key), Z85


def read_key(key_or_file: str) -> str:
    """A Z85 key itself, or the one key in a key file of `coworker keygen` (# lines are comments)."""
    if len(key_or_file) == 40 and not os.path.exists(key_or_file):
        return key_or_file
    with open(key_or_file) as f:
        keys = [w[0] for w in (line.split() for line in f) if w and len(w[0]) == 40 and not w[0].startswith("#")]
    if len(keys) != 1:
        raise ValueError(f"{key_or_file}: {len(keys)} keys where one was expected")
    return keys[0]


def secure(sock: zmq.Socket, curve: Curve) -> None:
    """Makes `sock` a CURVE client of the daemon when keys are given (docs/security.md)."""
    if not curve:
        return
    server_key, secret_key = (read_key(k) for k in curve)
    sock.curve_serverkey = server_key.encode()
    sock.curve_secretkey = secret_key.encode()
    sock.curve_publickey = zmq.curve_public(secret_key.encode())

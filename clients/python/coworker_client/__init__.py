"""Python client for coworker (docs/clients.md): `Client` sends requests to `coworker serve` and
follows its run events with no gap (`watch_cluster`: those of every node of a cluster); `Worker`
serves operations to it as a remote worker.

    from coworker_client import Client, Worker
"""
from .client import Client, CoworkerError, watch_cluster
from .worker import Worker

__all__ = ["Client", "CoworkerError", "Worker", "watch_cluster"]

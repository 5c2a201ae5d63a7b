#!/usr/bin/env python3
"""The Python client (clients/python, issue 20) against a real `coworker serve`: a Worker serves an
operation with capacity 2; Client.run waits for chains that use it; a handler's CoworkerError fails
its step with that code; refusals are CoworkerError with code and path; signal, publish, chains, a
run by name, list, get, cancel, a redrive dry run; watch() yields the snapshot first, then every
event with no gap and no repeat, and after a kill -9 and a restart on the same endpoints one resync,
while the worker says hello again by itself. Installed with pip into a directory when pip is there.

    python_client.py /path/to/coworker /path/to/clients/python
"""
import os
import shutil
import signal
import subprocess
import sys
import threading

from scratch import passed
from serve_harness import SAFETY, Run

T = Run(sys.argv[1], "pyclient")
fail, check = T.fail, T.check

# Installed as a user would, when pip is there; else from the source directory.
site = os.path.join(T.tmp, "site")
source = os.path.join(T.tmp, "source")  # pip builds in the directory it installs from: a copy
shutil.copytree(sys.argv[2], source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
pip = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--quiet",
                      "--target", site, source], capture_output=True, text=True)
sys.path.insert(0, site if pip.returncode == 0 else sys.argv[2])
print("installed with pip" if pip.returncode == 0 else f"pip unusable, from {sys.argv[2]}: {pip.stderr[-300:]}", flush=True)
from coworker_client import Client, CoworkerError, Worker  # noqa: E402

d = T.start([], workers=True)
client = Client(requests=d.req, events=d.ev, timeout=SAFETY)
worker = Worker(d.workers, capacity=2)


@worker.operation("shout", input_schema={"type": "object"})
def shout(inp, task):
    if inp.get("refuse"):
        raise CoworkerError("refused", "not this one")
    return {"text": inp["text"].upper(), "attempt": task["attempt"]}


threading.Thread(target=worker.run, daemon=True).start()
check(worker.welcomed.wait(SAFETY), "the worker was not welcomed")

# A watcher on a thread of its own, with its own client: every event, in order.
seen = threading.Condition()
events, syncs = [], []


def watch():
    with Client(requests=d.req, events=d.ev, timeout=SAFETY) as c:
        for env in c.watch(timeout=SAFETY):
            with seen:
                (syncs if env["event"] in ("snapshot", "resync") else events).append(env)
                seen.notify_all()


def wait_event(what, match):
    with seen:
        if not seen.wait_for(lambda: any(match(e) for e in events), SAFETY):
            fail(f"no event: {what}")


threading.Thread(target=watch, daemon=True).start()
with seen:
    check(seen.wait_for(lambda: syncs, SAFETY) and syncs[0]["event"] == "snapshot", "no snapshot first")

chain = {"operation": "run", "children": [
    {"id": "loud", "operation": "shout", "input": {"text": "{{input.text}}"}},
    {"id": "done", "operation": "log", "input": "{{loud.output.text}}"}]}
r = client.run(chain, input={"text": "hello"})
check(r["status"] == "completed" and r["tree"]["output"]["last"] == "HELLO", r)
root = r["runId"]
check(client.get(root)["status"] == "completed", "get")
check(client.get(root, tree=True)["children"][0]["output"] == {"text": "HELLO", "attempt": 1}, "get with tree")
check(client.list(limit=5)[0]["id"] == root, "list")

# A handler's error fails its step with its code; refusals carry their code and path.
r = client.run({"operation": "run", "children": [{"id": "no", "operation": "shout", "input": {"refuse": True}}]})
check(r["status"] == "failed" and r["tree"]["error"]["code"] == "refused", r)
try:
    client.run({"operation": "run", "children": [{"id": "x", "operation": "nope"}]})
    fail("an unknown operation was accepted")
except CoworkerError as e:
    check(e.code == "unknown_operation" and e.path == "/chain/children/0/operation", (e.code, e.path))

# signal, publish, chains, a run by name, cancel, a redrive dry run.
r = client.signal("py-key", {"ok": True})
check(r.get("kept") is True, r)
p = client.publish("shouter", chain)
check(p["version"] == 1 and p["created"], p)
check(client.chains()[0]["name"] == "shouter", "chains")
nodes = client.nodes()  # outside a cluster: this daemon alone, with its endpoints
check(len(nodes) == 1 and nodes[0]["self"] and nodes[0]["requests"] == d.req and nodes[0]["events"] == d.ev, nodes)
found = client.cluster()
check([(c.requests, c.events) for c in found] == [(d.req, d.ev)], "cluster()")
found[0].close()
r = client.run(chain_ref="shouter@1", input={"text": "by name"})
check(r["tree"]["chainName"] == "shouter" and r["tree"]["output"]["last"] == "BY NAME", r)
slow = client.run({"operation": "run", "children": [{"id": "nap", "operation": "wait", "input": {"ms": 60000}}]}, wait=False)
client.cancel(slow["runId"])
wait_event("the cancelled chain's end", lambda e: e["run"]["id"] == slow["runId"] and e["event"] == "after:run")
check(client.redrive(slow["runId"], dry_run=True)["wouldRun"] == ["nap"], "redrive dry run")

# A kill -9 and a restart on the same endpoints: the watcher resyncs once, the worker says hello again.
with seen:
    before = len(syncs)
d.stop(signal.SIGKILL)
worker.welcomed.clear()
d = T.start([], workers=True, same_ports=True)
check(worker.welcomed.wait(SAFETY), "the worker did not say hello to the new daemon")
# The watcher resyncs (the new epoch's first message); everything after it comes as events.
with seen:
    check(seen.wait_for(lambda: len(syncs) == before + 1, SAFETY), "no resync after the restart")
r = client.run(chain, input={"text": "again"})
check(r["status"] == "completed" and r["tree"]["output"]["last"] == "AGAIN", r)
wait_event("the chain on the new daemon", lambda e: e["run"]["id"] == r["runId"] and e["event"] == "after:run")
with seen:
    check(len(syncs) == before + 1 and syncs[-1]["event"] == "resync", [s["event"] for s in syncs])
    epochs = {e["epoch"] for e in events}
    check(len(epochs) == 2, epochs)
    for ep in epochs:
        seqs = [e["seq"] for e in events if e["epoch"] == ep]
        check(seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"a gap or a repeat: {seqs[:30]}")
worker.stop()
d.stop(signal.SIGTERM)
shutil.rmtree(site, ignore_errors=True)
passed("python_client: ok")

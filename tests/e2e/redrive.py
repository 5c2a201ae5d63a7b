#!/usr/bin/env python3
"""Redrive through a real `coworker serve` (issue 18), from a pyzmq client, with built-in operations
only: a chain that writes a Task document in each of its steps (a step, a parallel group of two, a
forEach of three) fails in its fourth step, an await that times out. A dry run says what would run
again and changes nothing; the signal the await waited for is sent (kept); the redrive runs the
await and the last step, and nothing else: the documents count the executions. A completed chain
cannot be redriven; a failed chain is redriven after a kill -9 and a restart (read back from the
store), over HTTP too; `coworker redrive --dry-run` prints the same steps.

    redrive.py /path/to/coworker
"""
import signal
import subprocess
import sys
import uuid

from scratch import passed
from serve_harness import Run

T = Run(sys.argv[1], "redrive")
fail, check = T.fail, T.check
TAG = uuid.uuid4().hex[:8]


def task(title):
    return {"operation": "create", "doctype": "Task", "input": {"data": {"title": title, "notes": TAG}}}


def chain(key, timeout_ms=300):
    return {"operation": "run", "id": "order", "input": {"items": [1, 2, 3]}, "children": [
        dict(task("prep"), id="prep"),
        {"id": "both", "parallel": ["left", "right"],
         "operations": [dict(task("left"), id="left"), dict(task("right"), id="right")]},
        {"id": "each", "forEach": "{{input.items}}", "as": "item", "do": dict(task("item-{{item}}"), id="one")},
        {"id": "approve", "operation": "await", "input": {"key": key}, "options": {"timeoutMs": timeout_ms}},
        dict(task("done"), id="done"),
    ]}


def titles(d):
    """Every Task title this test wrote, sorted: one per execution of a step that creates one."""
    r = d.call({"type": "run", "wait": True, "chain": {"operation": "run", "children": [
        {"operation": "select", "doctype": "Task", "input": {"where": {"notes": TAG}}}]}})
    check(r["ok"] and r["status"] == "completed", r)
    return sorted(doc["title"] for doc in r["tree"]["output"]["last"]["data"])


def ids_by_step(tree):
    """stepId → run ids in the tree, in tree order."""
    out = {}

    def walk(n):
        if n.get("stepId"):
            out.setdefault(n["stepId"], []).append(n["id"])
        for c in n["children"]:
            walk(c)
    walk(tree)
    return out


FIRST = sorted(["prep", "left", "right", "item-1", "item-2", "item-3"])
d = T.start(["after:run "])

# 1. The chain fails in its fourth step (the await times out), after the group and the forEach.
r = d.call({"type": "run", "wait": True, "chain": chain(f"ship-{TAG}")})
check(r["ok"] and r["status"] == "failed", r)
root = r["runId"]
before = ids_by_step(r["tree"])
check(r["tree"]["error"]["code"] == "timeout", r["tree"]["error"])
check(titles(d) == FIRST, titles(d))

# 2. A dry run names the steps that would run again and changes nothing.
r = d.call({"type": "redrive", "runId": root, "dryRun": True})
check(r == {"ok": True, "runId": root, "wouldRun": ["approve", "done"]}, r)
got = d.call({"type": "get", "runId": root})["run"]
check(got["status"] == "failed" and "redrives" not in got, got)
check(titles(d) == FIRST, "a dry run ran something")
out = subprocess.run([T.binary, "redrive", root, "--dry-run", "--requests", d.req], capture_output=True, text=True,
                     timeout=60)
check(out.returncode == 0 and out.stdout.strip() == f"a redrive of {root} would run: approve, done", out)

# 3. The answer arrives (kept: nothing waits), then the redrive: only the await and the last step run.
r = d.call({"type": "signal", "key": f"ship-{TAG}", "payload": {"ok": True}})
check(r == {"ok": True, "kept": True}, r)
r = d.call({"type": "redrive", "runId": root, "wait": True})
check(r["ok"] and r["status"] == "completed", r)
tree = r["tree"]
check(tree["id"] == root and tree["redrives"] == 1, tree)
check(titles(d) == sorted(FIRST + ["done"]), titles(d))  # prep, the group and the forEach did not run again
after = ids_by_step(tree)
for step in ("prep", "left", "right", "each", "one"):
    check(after[step] == before[step], f"{step} kept its runs: {before[step]} → {after[step]}")
check(after["approve"] == before["approve"], "the failed await ran again under its id")
approve = [c for c in tree["children"] if c.get("stepId") == "approve"][-1]
check(approve["status"] == "completed" and approve["output"] == {"ok": True}, approve)
check(tree["output"]["steps"] == tree["childRunIds"] and len(tree["childRunIds"]) == 5, tree["output"])

# 4. A completed chain cannot be redriven; a step's run id is not a chain; an unknown id is not found.
r = d.call({"type": "redrive", "runId": root})
check(not r["ok"] and r["error"]["code"] == "not_redrivable", r)
r = d.call({"type": "redrive", "runId": before["prep"][0]})
check(not r["ok"] and r["error"]["code"] == "invalid_input" and r["error"]["path"] == "/runId", r)
r = d.call({"type": "redrive", "runId": "run-nope"})
check(not r["ok"] and r["error"]["code"] == "not_found", r)

# 5. A chain that failed before a kill -9 is redriven by the restarted daemon (its records and document
#    read back from the store), over HTTP.
r = d.call({"type": "run", "wait": True, "chain": chain(f"late-{TAG}")})
check(r["ok"] and r["status"] == "failed", r)
second = r["runId"]
d.stop(signal.SIGKILL)
d = T.start(["after:run "])
r = d.call({"type": "signal", "key": f"late-{TAG}", "payload": {"ok": "late"}})
check(r == {"ok": True, "kept": True}, r)
status, body = d.post(f"/api/runs/{second}/redrive", {})
check(status == 200 and body["ok"] and body["redrives"] == 1 and body["wouldRun"] == ["approve", "done"], (status, body))
r = d.call({"type": "redrive", "runId": second})
check(not r["ok"] and r["error"]["code"] == "not_redrivable", r)  # it runs now
for run in d.runs(lambda x: x["id"] == second and x["status"] in ("completed", "failed"), "the redriven chain's end"):
    check(run["status"] == "completed", run)
    break
check(titles(d).count("done") == 2 and titles(d).count("prep") == 2, titles(d))  # one per chain
status, body = d.post(f"/api/runs/{second}/redrive", {"dryRun": True})
check(status == 409 and body["error"]["code"] == "not_redrivable", (status, body))
d.stop(signal.SIGTERM)
passed("redrive: ok")

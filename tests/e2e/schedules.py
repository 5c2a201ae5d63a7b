#!/usr/bin/env python3
"""Schedules and delayed starts through a real durable `coworker serve` (issue 18), from pyzmq:
a schedule with everyMs fires once per period (at most one chain per fire time between two
listings, each with its own key on the schedule's grid); a kill -9 and a restart do not fire anything
twice; `overlap: skip` never lets two of its runs overlap; a chain with startDelayMs is `scheduled`,
then starts at its time, and one cancelled before its time never runs; `coworker schedules` and
GET /api/schedules list what runs.

    schedules.py /path/to/coworker
"""
import signal
import sqlite3
import subprocess
import sys

from scratch import passed
from serve_harness import SAFETY, Run

T = Run(sys.argv[1], "schedules")
fail, check = T.fail, T.check
BIN, DB = T.binary, T.db


def start():
    return T.start(["after:run "])


def ended_chains(d, step_id, n):
    """The next `n` top chains of `step_id` to end (after:run events)."""
    got = []
    for run in d.runs(lambda r: r["ownerRunId"] is None and r["stepId"] == step_id, f"chains of {step_id}"):
        got.append(run)
        if len(got) == n:
            return got


def listing(name):
    r = daemon.call({"type": "schedules"})
    check(r["ok"], r)
    found = [s for s in r["schedules"] if s["name"] == name]
    check(len(found) == 1, f"{name} not listed: {r}")
    return found[0]


def keys_of(name):
    """The fire times of the chains a schedule started, from their idempotency keys in the file."""
    db = sqlite3.connect(DB)
    rows = db.execute("SELECT key, root_id FROM run_keys WHERE key LIKE ?", (f"schedule:{name}:%",)).fetchall()
    db.close()
    return sorted(int(k.rsplit(":", 1)[1]) for k, _ in rows), {r for _, r in rows}


daemon = start()

# 1. everyMs: the reply gives the next fire; fires once per period.
tick = {"operation": "run", "id": "tick", "input": {"n": 1},
        "children": [{"id": "say", "operation": "log", "input": "tick {{input.n}}"}]}
bad = daemon.call({"type": "schedule", "name": "tick", "everyMs": 1000, "chain": {"operation": "run", "children": [
    {"id": "x", "operation": "log", "input": "{{ghost.output}}"}]}})
check(not bad["ok"] and bad["error"]["path"].startswith("/chain/children/0/input"), bad)
bad = daemon.call({"type": "schedule", "name": "tick", "cron": "61 * * * *", "chain": tick})
check(not bad["ok"] and bad["error"]["path"] == "/cron", bad)
r = daemon.call({"type": "schedule", "name": "tick", "everyMs": 1000, "chain": tick, "input": {"n": 7}})
check(r["ok"] and r["name"] == "tick" and isinstance(r["nextFireAt"], int), r)
first = listing("tick")
check(first["nextFireAt"] == r["nextFireAt"] and first["lastFireAt"] is None, first)
runs = ended_chains(daemon, "tick", 3)
check(all(x["status"] == "completed" for x in runs), runs)
check(all(x["input"] == {"n": 7} for x in runs), "the schedule's input replaces the chain's")
before = listing("tick")
runs = ended_chains(daemon, "tick", 3)
after = listing("tick")
times, roots = keys_of("tick")
check(len(times) == len(set(times)), f"a fire time twice: {times}")
between = [t for t in times if before["lastFireAt"] < t <= after["lastFireAt"]]
# One chain per fire time at most; a tick that came late on a loaded machine fires once for the
# latest time due (tests/unit/lang/schedule_test.cpp), so a slot may have no chain, never two.
check(2 <= len(between) <= (after["lastFireAt"] - before["lastFireAt"]) // 1000,
      f"the fires between two listings: {between}")
check(all((t - times[0]) % 1000 == 0 for t in times), f"fires off the schedule's grid: {times}")

# 2. kill -9 and restart: nothing fires twice, the schedule goes on.
daemon.stop(signal.SIGKILL)
daemon = start()
runs = ended_chains(daemon, "tick", 2)
times, roots = keys_of("tick")
check(len(times) == len(set(times)) and all((t - times[0]) % 1000 == 0 for t in times), f"after kill -9: {times}")
db = sqlite3.connect(DB)
chains = {rid for rid, rec in db.execute("SELECT id, record FROM run_records WHERE json_extract(record, '$.stepId') = 'tick' "
                                         "AND json_extract(record, '$.ownerRunId') IS NULL")}
db.close()
check(chains == roots, f"every chain of the schedule has its own fire key: {len(chains)} chains, {len(roots)} keys")

# 3. overlap skip: a chain longer than the period never overlaps the next.
slow = {"operation": "run", "id": "slow", "children": [{"id": "nap", "operation": "wait", "input": {"ms": 1300}}]}
r = daemon.call({"type": "schedule", "name": "slow", "everyMs": 500, "chain": slow, "overlap": "skip"})
check(r["ok"], r)
runs = ended_chains(daemon, "slow", 3)
r = daemon.call({"type": "unschedule", "name": "slow"})
check(r == {"ok": True, "name": "slow", "removed": True}, r)
runs.sort(key=lambda x: x["started"])
for a, b in zip(runs, runs[1:]):
    check(b["started"] >= a["finished"], f"two runs of an overlap:skip schedule overlap: {a['id']} and {b['id']}")
r = daemon.call({"type": "unschedule", "name": "slow"})
check(not r["ok"] and r["error"]["code"] == "not_found", r)

# 4. Pause, list over HTTP and from the CLI.
r = daemon.call({"type": "schedule", "name": "tick", "paused": True})
check(r["ok"] and r["nextFireAt"] is None, r)
body = daemon.get("/api/schedules")
check([s["name"] for s in body["schedules"]] == ["tick"] and body["schedules"][0]["paused"], body)
out = subprocess.run([BIN, "schedules", "--requests", daemon.req], capture_output=True, text=True, timeout=SAFETY)
check(out.returncode == 0 and "tick" in out.stdout and "every 1000 ms" in out.stdout and "paused" in out.stdout, out)

# 5. Delayed start: scheduled until its time, then it runs; one cancelled before never runs.
r = daemon.call({"type": "run", "chain": {"operation": "run", "id": "later", "children": [
    {"id": "a", "operation": "log", "input": "later"}]}, "startDelayMs": 1500})
check(r["ok"] and r["status"] == "scheduled", r)
later = r["runId"]
rec = daemon.call({"type": "get", "runId": later})["run"]
# startAt is the request's time + 1500 ms; the record is created a moment after the request was read.
check(rec["status"] == "scheduled" and rec["started"] is None and 0 < rec["startAt"] - rec["created"] <= 1500, rec)
r = daemon.call({"type": "run", "chain": {"operation": "run", "id": "never", "children": [
    {"id": "a", "operation": "log", "input": "never"}]}, "startAt": rec["startAt"] + 60000})
never = r["runId"]
check(daemon.call({"type": "cancel", "runId": never})["ok"], "cancel a scheduled chain")
done = ended_chains(daemon, "later", 1)[0]
check(done["status"] == "completed" and done["started"] >= rec["startAt"], done)
gone = daemon.call({"type": "get", "runId": never, "tree": True})["run"]
check(gone["status"] == "cancelled" and gone["children"] == [], gone)
r = daemon.call({"type": "run", "chain": {"operation": "run", "children": [{"operation": "log"}]}, "startDelayMs": -1})
check(not r["ok"] and r["error"]["path"] == "/startDelayMs", r)

daemon.stop(signal.SIGTERM)
passed("schedules: ok")

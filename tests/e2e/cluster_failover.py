#!/usr/bin/env python3
"""Three `coworker serve` nodes over one PostgreSQL database (docs/cluster.md), on loopback.

1. kill -9: 1,000 chains submitted round-robin to the three nodes; one node is killed mid-way. Every
   chain completes (its partition taken over by a survivor), no run completed before the kill is
   lost or changed, no step completed before the kill runs again, and the steps that do run again
   are all of chains the dead node ran. Two watchers follow the three nodes meanwhile (the Python
   client's watch_cluster in examples/python/watch.py, and `coworker watch`, each given three endpoint pairs,
   and `coworker watch --cluster` given one node): each node is a stream of
   its own with seq growing by exactly 1, and the dead node's chains end on its taker's stream. A
   cancel and a signal (by key, by run id) sent to one node reach the chain another node runs.
2. SIGSTOP: a node paused past its lease while its chains run; another node takes its partition over
   and finishes them. Resumed, the paused node writes nothing more (no event of its epoch after the
   takeover) and exits with status 3, saying it lost its lease.
3. Cut off: the network between a node and the database lost with its connections left open (a
   proxy stops passing bytes); its renewal hangs, yet it fences itself once a lease has passed and
   exits 3, and the other node finishes its chains.
4. A Python Worker given both nodes' workers endpoints serves the chains of each; so does the C++
   remote worker (examples/worker).

    cluster_failover.py /path/to/coworker postgresql://server/postgres
"""
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import zmq

from ports import free_ports
from scratch import passed, scratch_dir

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
from coworker_client import Worker  # noqa: E402

# Short, to keep the test short; under the sanitizers (a slower, busier machine) a starved keeper must
# not miss a lease of a healthy node.
LEASE_MS = 4000 if os.environ.get("COWORKER_SANITIZED", "OFF") not in ("", "0", "OFF") else 1500
CHAINS = 1000


def chain(i, wait_ms=100):
    steps = []
    for k in (1, 2, 3):
        steps.append({"id": f"s{k}", "operation": "create", "doctype": "Exec", "input": {"data": {"chain": i, "step": k}}})
        if k < 3:
            steps.append({"id": f"w{k}", "operation": "wait", "input": {"ms": wait_ms}})
    return {"operation": "run", "input": {"i": i}, "children": steps}


def psql(url, sql):
    """Rows of `sql` as tuples (one JSON value through psql)."""
    out = subprocess.run(["psql", "-AtX", "-v", "ON_ERROR_STOP=1", url, "-c",
                          f"SELECT COALESCE(json_agg(row_to_json(q)), '[]')::text FROM ({sql}) q"],
                         check=True, capture_output=True, text=True).stdout
    return [tuple(row.values()) for row in json.loads(out)]


def new_database(server, name):
    subprocess.run(["psql", "-qAtX", "-v", "ON_ERROR_STOP=1", server, "-c", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", "-qAtX", "-v", "ON_ERROR_STOP=1", server, "-c", f"CREATE DATABASE {name}"], check=True)
    return server.rsplit("/", 1)[0] + "/" + name


class Node:
    def __init__(self, binary, db, name, tmp, workers=False, extra=()):
        self.name = name
        self.req, self.ev, self.workers = [f"tcp://127.0.0.1:{p}" for p in free_ports(3)]
        config = os.path.join(tmp, f"{name}.json")
        with open(config, "w") as f:
            json.dump({"cluster": {"node": name, "leaseMs": LEASE_MS}}, f)
        self.log_path = os.path.join(tmp, f"{name}.log")
        LOGS.append(self.log_path)
        self.proc = subprocess.Popen([binary, "serve", "--db", db, "--config", config, "--requests", self.req,
                                      "--events", self.ev, "--workers", self.workers if workers else "none", *extra],
                                     stderr=open(self.log_path, "a"))
        PROCS.append(self.proc)
        self.sock = None
        self.reconnect()
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                ping = self.call({"type": "ping"}, timeout=0.5)
                if ping.get("ok"):
                    self.epoch = ping["epoch"]
                    return
            except TimeoutError:
                pass
        raise RuntimeError(f"{name} did not answer ping")

    def reconnect(self):
        if self.sock:
            self.sock.close()
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(self.req)

    def call(self, req, timeout=30.0):
        self.sock.send_multipart([b"", json.dumps(req).encode()])
        if not self.sock.poll(int(timeout * 1000)):
            self.reconnect()  # a late reply would answer the next call
            raise TimeoutError(req["type"])
        return json.loads(self.sock.recv_multipart()[-1])

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def kill(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        """SIGTERM; the node stops cleanly (status 0: under the sanitizers, also no error found)."""
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        self.sock.close()
        assert code == 0, f"node {self.name} stopped with status {code}: {self.log()[-3000:]}"


def wait_until(what, check, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def roots(db):
    return {rid: status for rid, status in psql(db, "SELECT id, status FROM runs WHERE owner IS NULL")}


def completed_steps(db):
    return {(chain_id, rec["stepId"]) for chain_id, rec in
            ((c, json.loads(r)) for c, r in psql(db, "SELECT chain_id, record FROM run_records WHERE status = 'completed'"))
            if (rec.get("stepId") or "").startswith("s")}


def step_counts(db):
    counts = {}
    for data, in psql(db, "SELECT data FROM documents WHERE doctype = 'Exec'"):
        d = json.loads(data)
        counts[(d["chain"], d["step"])] = counts.get((d["chain"], d["step"]), 0) + 1
    return counts


EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "python")


class ClusterWatch:
    """examples/python/watch.py on the Python client's watch_cluster over every node (`--cluster`: the
    nodes the last one lists, Client.cluster), in a process of its own (not to slow down this one's
    submissions), one JSON line per thing it yields."""

    def __init__(self, nodes, tmp):
        self.out = os.path.join(tmp, "watch_cluster.out")
        args = [sys.executable, os.path.join(EXAMPLES, "watch.py"), "--json", "--timeout", "60",
                "--cluster", "--requests", nodes[-1].req]
        PROCS.append(subprocess.Popen(args, stdout=open(self.out, "w"), stderr=subprocess.STDOUT))
        wait_until("a snapshot of each node", lambda: len(self.read()[0]) >= len(nodes), seconds=60)

    def read(self):
        syncs, events = [], []
        with open(self.out) as f:
            for text in f:
                if not text.endswith("\n"):
                    break  # being written
                e = json.loads(text)
                if "event" not in e:
                    raise AssertionError(f"watch.py ended: {text}")
                (syncs if e["event"] in ("snapshot", "resync") else events).append(e)
        return syncs, events

    def roots_ended(self):
        """chain id -> the stream that published its end."""
        return {e["runId"]: e["stream"] for e in self.read()[1] if e["event"] == "after:run" and e["runId"] == e["chainId"]}

    def check_streams(self, names):
        syncs, events = self.read()
        assert [(s["event"], s["stream"]) for s in syncs] == [("snapshot", n) for n in names], \
            f"one snapshot per node and no resync: {[(s['event'], s['stream']) for s in syncs]}"
        by_stream = {}
        for e in events:
            by_stream.setdefault((e["stream"], e["epoch"]), []).append(e["seq"])
        assert {stream for stream, _ in by_stream} == set(names), by_stream.keys()
        for key, seqs in by_stream.items():
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"{key}: a gap or a repeat"


def kill_one_of_three(binary, server, tmp):
    db = new_database(server, "cluster_kill")
    nodes = [Node(binary, db, n, tmp) for n in ("a", "b", "c")]
    homes = dict(psql(db, "SELECT node, partition FROM leases"))
    assert sorted(homes.values()) == [0, 1, 2], f"each node a partition of its own: {homes}"
    watcher = ClusterWatch(nodes, tmp)
    cli_out = os.path.join(tmp, "watch.out")
    cli_args = [binary, "watch"]
    for n in nodes:
        cli_args += ["--requests", n.req, "--events", n.ev]
    unpaired = subprocess.run(cli_args[:-2], capture_output=True, text=True, timeout=30)  # the last --events left out
    assert unpaired.returncode == 2 and "one --events for each --requests" in unpaired.stderr, unpaired
    cli_watch = subprocess.Popen(cli_args, stdout=open(cli_out, "w"), stderr=subprocess.STDOUT)
    PROCS.append(cli_watch)
    # The same, given one node: `--cluster` asks it for the live nodes and follows each.
    found_out = os.path.join(tmp, "watch_found.out")
    found_watch = subprocess.Popen([binary, "watch", "--cluster", "--requests", nodes[2].req],
                                   stdout=open(found_out, "w"), stderr=subprocess.STDOUT)
    PROCS.append(found_watch)
    wait_until("coworker watch's snapshots", lambda: open(cli_out).read().count(": snapshot at seq") == 3, seconds=60)
    wait_until("coworker watch --cluster's snapshots", lambda: open(found_out).read().count(": snapshot at seq") == 3,
               seconds=60)
    ids = {}  # run id -> (chain number, node)
    alive = list(nodes)
    for i in range(CHAINS):
        node = alive[i % len(alive)]
        # The last ones before the kill last long enough to be in flight on any machine.
        slow = CHAINS // 2 - 30 <= i <= CHAINS // 2
        r = node.call({"type": "run", "chain": chain(i, wait_ms=2000 if slow else 300), "key": f"chain-{i}"})
        assert r["ok"], r
        ids[r["runId"]] = (i, node.name)
        if i == CHAINS // 2:
            # Mid-way: node a dies; the client goes on with the other two. What was done is read just
            # before: read after, it could hold steps the taker completed (slowly read, on a busy machine).
            done_before = completed_steps(db)
            before = roots(db)
            nodes[0].kill(signal.SIGKILL)
            nodes[0].proc.wait()
            alive = nodes[1:]
    in_flight = [rid for rid, s in before.items() if s != "completed" and ids[rid][1] == "a"]
    print(f"kill -9: node a killed after {CHAINS // 2 + 1} submissions, {len(in_flight)} of its chains in flight",
          flush=True)
    assert in_flight, "the kill came too late to test anything"
    wait_until("every chain completed", lambda: list(roots(db).values()).count("completed") == CHAINS)
    final = roots(db)
    assert set(final) == set(ids), "the chains acknowledged are the chains stored"
    assert all(s == "completed" for s in final.values())
    for rid, status in before.items():
        if status == "completed":
            assert final[rid] == "completed", f"completed chain {rid} lost"
    counts = step_counts(db)
    reruns = []
    for rid, (i, node) in ids.items():
        for k in (1, 2, 3):
            n = counts.get((i, k), 0)
            assert n >= 1, f"chain {i} step {k} never ran"
            if (rid, f"s{k}") in done_before:
                assert n == 1, f"chain {i} step {k} completed before the kill but ran {n} times"
            if n > 1:
                reruns.append((i, k, node))
    assert all(node == "a" for _, _, node in reruns), f"only the dead node's steps run again: {reruns[:5]}"
    takers = [n.name for n in nodes[1:] if "took over partition 0" in n.log()]
    assert len(takers) == 1, f"one survivor took partition 0 over: {takers}"
    print(f"kill -9: ok; {takers[0]} took over partition 0, {len(reruns)} steps in flight at the kill ran again",
          flush=True)
    # The watchers saw every chain of b and c end, and the chains of a that its taker finished end on
    # the taker's stream. (What a published just before the kill may never have left its socket.)
    taker = next(n for n in nodes if n.name == takers[0])
    moved = {rid for rid, in psql(db, f"SELECT run_id FROM events WHERE kind = 'after:run' AND epoch = '{taker.epoch}'")
             if rid in in_flight}
    assert moved, "the taker finished some of a's chains"
    must_see = {rid for rid, s in before.items() if s != "completed" and ids[rid][1] != "a"} | moved
    wait_until("the watcher saw every chain end", lambda: must_see <= set(watcher.roots_ended()), seconds=60)
    ended = watcher.roots_ended()
    assert all(ended[rid] == takers[0] for rid in moved), "a's chains end on the taker's stream"
    watcher.check_streams(["a", "b", "c"])
    wait_until("coworker watch printed every chain's end",
               lambda: sum(line.startswith("✓ run ") for line in open(cli_out)) >= len(must_see), seconds=60)
    wait_until("coworker watch --cluster printed every chain's end",
               lambda: sum(line.startswith("✓ run ") for line in open(found_out)) >= len(must_see), seconds=60)
    for proc, out in ((cli_watch, cli_out), (found_watch, found_out)):
        proc.terminate()
        proc.wait(timeout=30)
        printed = open(out).read()
        for n in ("a", "b", "c"):
            assert f"-- node {n}: snapshot at seq" in printed, printed[:2000]
        assert "resyncing" not in printed, [line for line in printed.splitlines() if "resyncing" in line][:5]
    print(f"watch: ok; {len(must_see)} chains ended after the kill, {len(moved)} of a's on {takers[0]}'s stream",
          flush=True)
    # A cancel sent to any node reaches the node that runs the chain.
    b, c = nodes[1], nodes[2]
    r = b.call({"type": "run", "chain": {"operation": "run", "children": [{"operation": "wait", "input": {"ms": 600000}}]}})
    assert r["ok"], r
    sent = c.call({"type": "cancel", "runId": r["runId"]})
    assert sent["ok"], sent
    wait_until("the chain of b cancelled through c", lambda: roots(db).get(r["runId"]) == "cancelled", seconds=30)
    print("cancel through another node: ok", flush=True)
    # A signal sent to any node reaches the await that waits on another: by key, then by run id.
    for how in ("key", "runId"):
        key = f"approve-{how}"
        r = b.call({"type": "run", "chain": {"operation": "run", "children": [
            {"id": "approve", "operation": "await", "input": {"key": key}}]}})
        assert r["ok"], r
        step = []
        wait_until("the await waits on b", lambda: step.extend(psql(db, f"SELECT id FROM run_records WHERE chain_id = "
                                                                         f"'{r['runId']}' AND status = 'waiting'")) or step)
        req = {"type": "signal", "payload": {"by": how}, **({"key": key} if how == "key" else {"runId": step[0][0]})}
        sent = c.call(req)
        assert sent["ok"], sent
        # No await of it on c: c asks b, whose await takes it; the reply names b, once b stored the end.
        assert sent["delivered"] and sent["runId"] == step[0][0] and sent["node"] == "b", sent
        assert psql(db, f"SELECT status FROM runs WHERE id = '{step[0][0]}'") == [("completed",)], "acknowledged, not stored"
        wait_until(f"b's await completed by a signal to c by {how}", lambda: roots(db).get(r["runId"]) == "completed",
                   seconds=30)
    print("signal through another node: ok", flush=True)
    for n in nodes[1:]:
        n.stop()


def submit_chains(node, n, key_prefix):
    """`n` chains of steps that wait a second, each with its own key, sent to `node`: their run ids."""
    ids = []
    for i in range(n):
        r = node.call({"type": "run", "chain": chain(i, wait_ms=1000), "key": f"{key_prefix}-{i}"})
        assert r["ok"], r
        ids.append(r["runId"])
    return ids


def pause_past_the_lease(binary, server, tmp):
    db = new_database(server, "cluster_pause")
    a = Node(binary, db, "a", tmp)
    b = Node(binary, db, "b", tmp)
    ids = submit_chains(a, 40, "p")
    a.kill(signal.SIGSTOP)
    wait_until("b takes partition 0 over",
               lambda: psql(db, "SELECT node FROM leases WHERE partition = 0") == [("b",)], seconds=30)
    fenced_at, = psql(db, f"SELECT COALESCE(MAX(seq), 0) FROM events WHERE epoch = '{a.epoch}'")[0]
    a.kill(signal.SIGCONT)
    assert a.proc.wait(timeout=30) == 3, "a node that lost its lease stops with status 3"
    assert "lost its lease" in a.log(), a.log()[-2000:]
    wait_until("b completes a's chains", lambda: all(roots(db).get(rid) == "completed" for rid in ids))
    after, = psql(db, f"SELECT COALESCE(MAX(seq), 0) FROM events WHERE epoch = '{a.epoch}'")[0]
    assert after == fenced_at, f"node a wrote events after the takeover: seq {fenced_at} -> {after}"
    print(f"SIGSTOP: ok; b took over, a wrote nothing after (seq {fenced_at}) and exited 3", flush=True)
    a.sock.close()
    b.stop()


class Blackhole:
    """A TCP proxy to the database that can stop passing bytes, both ways, while every connection
    stays open: the network between a node and its database lost, with no reset to tell."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.flowing = threading.Event()
        self.flowing.set()
        self.sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                near, _ = self.listener.accept()
                far = socket.create_connection(self.target)
            except OSError:
                return
            self.sockets += [near, far]
            for src, dst in ((near, far), (far, near)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src, dst):
        while True:
            self.flowing.wait()  # cut: nothing is read, so the sender's buffers fill and it waits
            try:
                data = src.recv(65536)
                if not data:
                    break
                self.flowing.wait()  # read just before the cut: held
                dst.sendall(data)
            except OSError:
                break

    def cut(self):
        self.flowing.clear()

    def close(self):
        self.listener.close()
        for s in self.sockets:
            s.close()


def cut_off_from_the_database(binary, server, tmp):
    """The network between node a and the database lost, connections left open (a proxy that stops
    passing bytes): a's renewal hangs, yet a fences itself once a lease has passed, exits 3, and b
    takes its partition over and finishes its chains."""
    db = new_database(server, "cluster_cut")
    where = db.split("@", 1)[1].split("/", 1)[0]
    host, port = where.rsplit(":", 1)
    hole = Blackhole(host, int(port))
    a = Node(binary, db.replace(where, f"127.0.0.1:{hole.port}", 1), "a", tmp)
    b = Node(binary, db, "b", tmp)
    ids = submit_chains(a, 20, "cut")
    hole.cut()
    assert a.proc.wait(timeout=60) == 3, "a node cut off from its database stops with status 3"
    assert "lost its lease: no lease renewed for" in a.log() and "a call to the database has not returned" in a.log(), a.log()[-2000:]
    wait_until("b completes a's chains", lambda: all(roots(db).get(rid) == "completed" for rid in ids))
    assert "took over partition" in b.log(), b.log()[-2000:]
    print("cut off from the database: ok; a fenced itself and exited 3, b finished its chains", flush=True)
    hole.close()
    a.sock.close()
    b.stop()


def a_worker_on_every_node(binary, server, tmp):
    """A remote worker given every node's workers endpoint serves the chains of each."""
    db = new_database(server, "cluster_workers")
    nodes = [Node(binary, db, n, tmp, workers=True) for n in ("a", "b")]
    worker = Worker([n.workers for n in nodes], capacity=4)
    served_by = []

    @worker.operation("shout")
    def shout(inp, task):
        served_by.append(task["runId"])
        return {"text": inp["text"].upper()}

    threading.Thread(target=worker.run, daemon=True).start()
    assert worker.welcomed.wait(30), "both nodes accepted the worker's hello"
    for n in nodes:
        r = n.call({"type": "run", "wait": True, "chain": {"operation": "run", "children": [
            {"id": "loud", "operation": "shout", "input": {"text": f"from {n.name}"}}]}})
        assert r["ok"] and r["status"] == "completed", r
        assert r["tree"]["children"][0]["output"] == {"text": f"FROM {n.name.upper()}"}, r["tree"]
    assert len(served_by) == 2 and worker.served == 2, served_by
    worker.stop()
    print("a worker on every node: ok; it served a chain of a and one of b", flush=True)
    # The C++ remote worker (examples/worker) given both endpoints, once the Python one has left.
    wait_until("the Python worker gone", lambda: all(
        "shout" not in [o["name"] for o in n.call({"type": "operations"})["operations"]] for n in nodes), seconds=30)
    cpp = subprocess.Popen([os.path.join(os.path.dirname(binary), "examples", "example_worker")] +
                           [n.workers for n in nodes], stdout=subprocess.PIPE, text=True)
    PROCS.append(cpp)
    wait_until("the C++ worker on both nodes", lambda: all(
        "shout" in [o["name"] for o in n.call({"type": "operations"})["operations"]] for n in nodes), seconds=30)
    for n in nodes:
        r = n.call({"type": "run", "wait": True, "chain": {"operation": "run", "children": [
            {"id": "loud", "operation": "shout", "input": f"from {n.name}"}]}})
        assert r["ok"] and r["status"] == "completed", r
        assert r["tree"]["children"][0]["output"] == {"text": f"FROM {n.name.upper()}!"}, r["tree"]
    cpp.terminate()
    assert cpp.wait(timeout=30) == 0 and "served 2 tasks" in cpp.stdout.read(), "the C++ worker served both"
    print("the C++ worker on every node: ok", flush=True)
    for n in nodes:
        n.stop()


LOGS = []
PROCS = []  # every process started: none may outlive a failed test (ctest would wait for it)


@contextlib.contextmanager
def nodes_cleaned_up():
    """On a failure inside, prints the end of every node's log; then kills every process started
    that is still running (none may outlive a failed test: ctest would wait for it)."""
    try:
        yield
    except BaseException:
        for log in LOGS:
            with open(log) as f:
                sys.stderr.write(f"--- {log}\n" + f.read()[-3000:])
        raise
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()


def main():
    binary, server = sys.argv[1], sys.argv[2]
    tmp = scratch_dir("coworker-cluster-")
    with nodes_cleaned_up():
        kill_one_of_three(binary, server, tmp)
        pause_past_the_lease(binary, server, tmp)
        cut_off_from_the_database(binary, server, tmp)
        a_worker_on_every_node(binary, server, tmp)
    passed()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The web view of one node following a whole cluster (docs/web.md, "A cluster"), in headless Chromium.

Nodes a and b over one PostgreSQL database, each with its web view and one HTTP token. The page is
opened on a only (the token typed into its form). It lists both nodes (GET /api/nodes; `coworker
nodes` lists them too) and follows
b's events from another origin (b grants a's origin by CORS, a stranger's origin nothing): a chain
sent to b over ZeroMQ is drawn running, then completed, live. A node c started after the page
opened is followed within seconds, and its chain is drawn too. b killed with -9 while its chain
waits: the page stops following b and draws that chain completed from the stream of the node that
took it over.

    web_cluster.py /path/to/coworker postgresql://server/postgres SCREENSHOT.png
"""
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By

import browser
import cluster_failover as cf
from ports import free_ports
from scratch import passed, scratch_dir

TOKEN = "web-cluster-t0k"
driver = None


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    if driver:
        try:
            print("streams:", streams(), file=sys.stderr)
            driver.save_screenshot(SHOT)
            for entry in driver.get_log("browser"):
                print("browser:", entry.get("level"), entry.get("message"), file=sys.stderr)
        except Exception:
            pass
    raise SystemExit(1)


def wait_for(what, check, timeout=30.0):
    return browser.wait_for(what, check, timeout, fail)


def streams():
    """node -> [state, seq] of each stream the page follows."""
    return driver.execute_script(
        "const s = window.coworkerPage && window.coworkerPage.state.streams;"
        "return s ? Object.fromEntries([...s.values()].map((x) => [x.node, [x.state, x.seq]])) : {};")


def all_live(names):
    """The streams followed are exactly `names`, each live (fail() prints what they are)."""
    s = streams()
    return set(s) == names and all(state == "live" for state, _ in s.values())


def step_status(step):
    found = driver.find_elements(By.CSS_SELECTOR, f'#tree .node[data-step="{step}"]')
    return found[0].get_attribute("data-status") if found else None


def chain_status(run_id):
    found = driver.find_elements(By.CSS_SELECTOR, f'#chain-list li[data-run-id="{run_id}"]')
    return found[0].get_attribute("data-status") if found else None


def web_node(binary, db, name, tmp):
    port, = free_ports(1)
    node = cf.Node(binary, db, name, tmp, extra=["--http", f"127.0.0.1:{port}", "--http-token", TOKEN])
    node.http = f"http://127.0.0.1:{port}"
    return node


def get(url, origin=None, token=TOKEN):
    headers = {"Origin": origin} if origin else {}
    if token:
        headers["Authorization"] = "Bearer " + token
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


def submit(node, step_id, wait_ms):
    chain = {"operation": "run", "id": step_id, "children": [
        {"id": "pause", "operation": "wait", "input": {"ms": wait_ms}},
        {"id": "said", "operation": "log", "input": {"from": node.name}}]}
    reply = node.call({"type": "run", "chain": chain})
    if not reply.get("ok"):
        fail(f"{node.name} refused the chain: {reply}")
    return reply["runId"]


def main():
    global SHOT
    binary, server, SHOT = sys.argv[1], sys.argv[2], sys.argv[3]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("FAIL: timed out"))  # `finally` still stops the nodes
    tmp = scratch_dir("coworker-web-cluster-")
    db = cf.new_database(server, "web_cluster")
    with cf.nodes_cleaned_up():
        run(binary, db, tmp)
    passed()
    return 0


def run(binary, db, tmp):
    global driver
    try:
        a = web_node(binary, db, "a", tmp)
        b = web_node(binary, db, "b", tmp)

        # Every node lists every node; b lets a's pages read it, and nobody else's.
        code, _, listed = get(a.http + "/api/nodes")
        names = {n["node"]: n for n in listed.get("nodes", [])}
        if code != 200 or set(names) != {"a", "b"} or not names["a"]["self"] or names["b"]["self"]:
            fail(f"GET /api/nodes on a: {code} {listed}")
        if names["b"]["http"] != b.http or names["b"]["requests"] != b.req or names["b"]["events"] != b.ev:
            fail(f"b's addresses: {names['b']}")
        listed = subprocess.run([binary, "nodes", "--requests", b.req], capture_output=True, text=True, timeout=30)
        want = [f"a  requests {a.req}  events {a.ev}  http {a.http}", f"b (this one)  requests {b.req}  events {b.ev}  http {b.http}"]
        if listed.returncode != 0 or listed.stdout.splitlines() != want:
            fail(f"coworker nodes: {listed}")
        _, headers, _ = get(b.http + "/api/snapshot?recent=1", origin=a.http)
        if headers.get("Access-Control-Allow-Origin") != a.http:
            fail(f"b does not let a's page read it: {headers}")
        _, headers, _ = get(b.http + "/api/snapshot?recent=1", origin="http://127.0.0.1:1")
        if "Access-Control-Allow-Origin" in headers:
            fail(f"b lets a stranger's page read it: {headers}")
        code, headers, _ = get(b.http + "/api/snapshot?recent=1", origin=a.http, token=None)
        if code != 401 or headers.get("Access-Control-Allow-Origin") != a.http:
            fail(f"without the token b answers {code} {headers} (a's page must see the 401)")

        driver = browser.chromium()
        driver.get(a.http + "/")
        wait_for("the token form", lambda: driver.find_element(By.ID, "token-form").is_displayed())
        driver.find_element(By.ID, "token-input").send_keys(TOKEN)
        driver.find_element(By.CSS_SELECTOR, "#token-form button").click()
        wait_for("both nodes live", lambda: all_live({"a", "b"}))
        if driver.find_element(By.ID, "live").get_attribute("data-state") != "live":
            fail("the header does not say live")

        # A chain run by b is drawn live on a's page, from b's stream.
        b_seq = streams()["b"][1]
        on_b = submit(b, "on-b", 1500)
        wait_for("b's chain running", lambda: chain_status(on_b) == "running")
        wait_for("b's chain completed", lambda: chain_status(on_b) == "completed")
        if streams()["b"][1] <= b_seq:
            fail(f"b's stream did not move: {streams()}")
        driver.find_element(By.CSS_SELECTOR, f'#chain-list li[data-run-id="{on_b}"]').click()
        wait_for("b's steps drawn", lambda: step_status("pause") == step_status("said") == "completed")

        # A node started after the page opened is followed without a reload.
        c = web_node(binary, db, "c", tmp)
        wait_for("c followed", lambda: all_live({"a", "b", "c"}), 20)
        on_c = submit(c, "on-c", 200)
        wait_for("c's chain completed", lambda: chain_status(on_c) == "completed")

        # b dies with a chain in flight: the page stops following b, and the chain ends on the stream
        # of the node that took b's partition over.
        slow = submit(b, "slow-on-b", 3000)
        wait_for("the slow chain running", lambda: chain_status(slow) == "running")
        b.kill(signal.SIGKILL)
        b.proc.wait()
        wait_for("b no longer followed", lambda: all_live({"a", "c"}), 20)
        wait_for("b's chain completed on its taker", lambda: chain_status(slow) == "completed", 60)
        takers = [n for n in (a, c) if "took over partition" in n.log()]
        if not takers:
            fail("no node says it took b's partition over")
        driver.save_screenshot(SHOT)
        print(f"web view on a follows the cluster: ok (b's chain finished on {takers[0].name})", flush=True)
        for n in (a, c):
            n.stop()
    finally:
        if driver:
            driver.quit()


if __name__ == "__main__":
    sys.exit(main())

"""Drives the web view in headless Chromium, and restarts the daemon under it once.

usage: web_ui.py URL SCREENSHOT.png SERVE_LOG COWORKER serve ARGS...
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import browser  # noqa: E402
from scratch import passed  # noqa: E402

URL, SHOT, LOG, SERVE = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
daemon = None
signal.signal(signal.SIGTERM, lambda *_: sys.exit("FAIL: timed out"))  # `finally` still stops the daemon


def start_daemon():
    global daemon
    log = open(LOG, "a")
    daemon = subprocess.Popen(SERVE, stderr=log, stdout=log)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with open(LOG) as f:
            if f.read().count("requests on") > starts:
                return
        time.sleep(0.05)
    raise SystemExit("FAIL: the daemon did not start")


def stop_daemon():
    daemon.terminate()
    if daemon.wait(timeout=20) != 0:
        raise SystemExit(f"FAIL: the daemon exited {daemon.returncode} on SIGTERM")

CHAIN = {
    "operation": "run", "id": "webtest", "input": {"name": "browser"},
    "children": [
        {"id": "hello", "operation": "message", "role": "assistant", "input": {"text": "Hi {{input.name}}"}},
        {"parallel": ["left", "right"], "id": "both", "operations": [
            {"id": "left", "operation": "wait", "input": {"ms": 1500}},
            {"id": "right", "operation": "log", "input": {"said": "{{hello.output.text}}"}}]},
        {"id": "risky", "operation": "log", "input": "{{hello.output.missing}}",
         "onError": {"id": "fallback", "operation": "log", "input": {"recovered": "{{error.code}}"}}},
        {"id": "never", "operation": "log", "if": "1 > 2"},
        {"id": "done", "operation": "message", "input": {"text": "finished"}}]}

BAD = '{"operation": "run",\n "children": [\n  {"id": "a", "operation": "log"},\n  {"id": "b", "operation": "log", "input": "{{ghost.output}}"}]}'


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    try:
        print("tree:", [(n.get_attribute("data-step"), n.get_attribute("data-status"))
                        for n in driver.find_elements(By.CSS_SELECTOR, "#tree .node")], file=sys.stderr)
        print("stream:", driver.find_element(By.ID, "live").text, file=sys.stderr)
        driver.save_screenshot(SHOT)
        logs = driver.get_log("browser")
        for entry in logs:
            print("browser:", entry.get("level"), entry.get("message"), file=sys.stderr)
    except Exception:  # the browser itself may be what failed
        pass
    sys.exit(1)


def wait_for(what, check, timeout=20.0):
    return browser.wait_for(what, check, timeout, fail)


def node(step):
    found = driver.find_elements(By.CSS_SELECTOR, f'#tree .node[data-step="{step}"]')
    return found[0] if found else None


def status(step):
    n = node(step)
    return n.get_attribute("data-status") if n else None


def set_text(text):
    box = driver.find_element(By.ID, "chain-text")
    driver.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));", box, text)


starts = 0
start_daemon()
driver = browser.chromium()
try:
    driver.get(URL)
    wait_for("the page to load its snapshot", lambda: driver.execute_script(
        "return window.coworkerPage && window.coworkerPage.ready()"))
    wait_for("the event stream", lambda: driver.find_element(By.ID, "live").get_attribute("data-state") == "live")

    # A validation error is marked where it is.
    set_text(BAD)
    driver.find_element(By.ID, "check").click()
    err = wait_for("the located error", lambda: driver.find_elements(By.CSS_SELECTOR, "#chain-errors li"))[0]
    if err.get_attribute("data-path") != "/children/1/input" or err.get_attribute("data-line") != "4":
        fail(f"error not located: path {err.get_attribute('data-path')} line {err.get_attribute('data-line')}: {err.text}")
    mark = wait_for("the mark in the text", lambda: driver.find_elements(By.CSS_SELECTOR, "#chain-marks mark"))[0]
    if "ghost" not in mark.get_attribute("textContent"):
        fail(f"the mark covers {mark.get_attribute('textContent')!r}")

    # The chain runs from the text box; the tree is drawn live.
    set_text(json.dumps(CHAIN, indent=2))
    driver.find_element(By.ID, "submit").click()
    wait_for("left to be drawn running", lambda: status("left") == "running")
    want = {"hello": "completed", "both": "completed", "left": "completed", "right": "completed",
            "risky": "failed", "fallback": "completed", "never": "skipped", "done": "completed"}
    wait_for("the final statuses", lambda: all(status(s) == st for s, st in want.items()) or
             {s: status(s) for s in want}, 30)
    root = wait_for("the chain's end", lambda: driver.execute_script(
        "const n = document.querySelector('#tree > .node');"
        "return n && ['completed', 'failed', 'cancelled'].includes(n.dataset.status) && n.dataset.status"), 30)
    if root != "completed":
        fail(f"the chain ended {root}")
    if node("risky").get_attribute("data-recovered") != "true":
        fail("risky is not drawn as recovered")
    if not node("fallback").find_elements(By.CSS_SELECTOR, ".tag.onerror"):
        fail("the fallback is not marked onError")
    left, right = node("left").rect, node("right").rect
    if abs(left["y"] - right["y"]) > 2 or abs(left["x"] - right["x"]) < 50:
        fail(f"the parallel members are not side by side: {left} {right}")
    if not node("both").find_elements(By.CSS_SELECTOR, ".lanes .lane"):
        fail("the group has no lanes")
    bar = node("left").find_element(By.CSS_SELECTOR, ".bar")
    if float(bar.value_of_css_property("width").rstrip("px")) < 20:
        fail("left's timing bar is not drawn to scale")

    # The chain list shows it finished with its counts.
    item = wait_for("the chain in the list", lambda: driver.find_elements(
        By.CSS_SELECTOR, '#chain-list li[data-status="completed"]'))[0]
    if "7 steps" not in item.text or "1 recovered" not in item.text or "1 skipped" not in item.text:
        fail(f"list entry: {item.text!r}")

    # A run's input, output and error on click.
    node("fallback").find_element(By.CSS_SELECTOR, ".row").click()
    wait_for("the fallback's output", lambda: "template_error" in driver.find_element(By.ID, "detail-output").text)
    node("risky").find_element(By.CSS_SELECTOR, ".row").click()
    wait_for("risky's error", lambda: "template_error" in driver.find_element(By.CSS_SELECTOR, "#detail-error pre").text)
    driver.save_screenshot(SHOT)

    # Signal a waiting await step from the form on its record: a payload its schema refuses shows the
    # error with its pointer and the step keeps waiting; a valid one is delivered and the chain ends.
    set_text(json.dumps({"operation": "run", "id": "approval", "children": [
        {"id": "approve", "operation": "await", "input": {"key": "web-approval",
         "schema": {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}}}},
        {"id": "after", "operation": "log", "input": {"ok": "{{approve.output.ok}}"}}]}))
    driver.find_element(By.ID, "submit").click()
    wait_for("the await to wait", lambda: status("approve") == "waiting")
    node("approve").find_element(By.CSS_SELECTOR, ".row").click()
    wait_for("the signal form", lambda: driver.find_element(By.ID, "signal-form").is_displayed())
    key = driver.find_element(By.ID, "signal-key").get_attribute("textContent")
    if key != "web-approval":
        fail(f"the form shows the key {key!r}, not 'web-approval'")
    payload = driver.find_element(By.ID, "signal-payload")
    payload.clear()
    payload.send_keys('{"ok": "yes"}')
    driver.find_element(By.ID, "signal-send").click()
    wait_for("the refusal", lambda: "/payload/ok" in driver.find_element(By.ID, "signal-status").text)
    if status("approve") != "waiting":
        fail("a refused signal ended the wait")
    # The browser logs the refusal's 400 (reading the log empties it): that one is expected.
    unexpected = [e for e in driver.get_log("browser")
                  if e.get("level") == "SEVERE" and not ("/signal " in e["message"] and "400" in e["message"])]
    if unexpected:
        fail(f"the page logged errors: {unexpected}")
    payload.clear()
    payload.send_keys('{"ok": true}')
    driver.find_element(By.ID, "signal-send").click()
    # The form goes once the step completes, so its words are read whether shown or not.
    wait_for("the delivery", lambda: driver.find_element(By.ID, "signal-status").get_attribute("textContent") == "delivered")
    wait_for("the await to complete", lambda: status("approve") == "completed")
    wait_for("the chain to complete", lambda: driver.find_element(
        By.CSS_SELECTOR, "#tree > .node").get_attribute("data-status") == "completed")
    wait_for("the form to go", lambda: not driver.find_element(By.ID, "signal-form").is_displayed())
    driver.find_element(By.ID, "detail-close").click()

    # Cancel: a long wait, from the page's button.
    set_text(json.dumps({"operation": "run", "id": "slow", "children": [
        {"id": "nap", "operation": "wait", "input": {"ms": 60000}}]}))
    driver.find_element(By.ID, "submit").click()
    wait_for("the nap to run", lambda: status("nap") == "running")
    driver.find_element(By.ID, "cancel").click()
    wait_for("the nap to be cancelled", lambda: status("nap") == "cancelled")
    wait_for("the chain to be cancelled", lambda: driver.find_element(
        By.CSS_SELECTOR, "#tree > .node").get_attribute("data-status") == "cancelled")

    # Redrive: the cancelled chain runs again under its id; what was cancelled runs again.
    wait_for("the redrive button", lambda: driver.find_element(By.ID, "redrive").is_displayed())
    driver.find_element(By.ID, "redrive").click()
    wait_for("the nap to run again", lambda: status("nap") == "running")
    wait_for("the redrive counted", lambda: "redriven 1×" in driver.find_element(By.ID, "chain-meta").text)
    if driver.find_element(By.ID, "redrive").is_displayed():
        fail("the redrive button shows on a running chain")
    driver.find_element(By.ID, "cancel").click()
    wait_for("the chain to be cancelled again", lambda: driver.find_element(
        By.CSS_SELECTOR, "#tree > .node").get_attribute("data-status") == "cancelled")

    # Re-submit runs the same chain again.
    before = len(driver.find_elements(By.CSS_SELECTOR, "#chain-list li"))
    wait_for("the re-submit button", lambda: driver.find_element(By.ID, "resubmit").is_displayed())
    driver.find_element(By.ID, "resubmit").click()
    wait_for("a second slow chain", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#chain-list li")) == before + 1)
    wait_for("it to run", lambda: status("nap") == "running")
    driver.find_element(By.ID, "cancel").click()
    wait_for("it to be cancelled", lambda: status("nap") == "cancelled")

    # A schedule made over the API shows in the list (refreshed every 10 s), with its rule.
    req = urllib.request.Request(URL.rstrip("/") + "/api/schedules", method="POST", headers={"Content-Type": "application/json"},
                                 data=json.dumps({"name": "nightly", "cron": "0 3 * * *", "tz": "Europe/Berlin", "paused": True,
                                                  "chain": {"operation": "run", "children": [{"operation": "log"}]}}).encode())
    with urllib.request.urlopen(req, timeout=20) as r:
        if not json.loads(r.read()).get("ok"):
            fail("the schedule was refused")
    item = wait_for("the schedule in the list", lambda: driver.find_elements(By.CSS_SELECTOR, '#schedule-list li[data-name="nightly"]'))[0]
    if "0 3 * * * (Europe/Berlin)" not in item.text or "paused" not in item.text:
        fail(f"the schedule shows as {item.text!r}")

    # A chain published over the API is listed (refreshed every 10 s) and runs by name with an input.
    req = urllib.request.Request(URL.rstrip("/") + "/api/chains", method="POST", headers={"Content-Type": "application/json"},
                                 data=json.dumps({"name": "greeter", "chain": {"operation": "run", "children": [
                                     {"id": "greet", "operation": "message", "role": "assistant",
                                      "input": {"text": "Hi {{input.name}}"}}]}}).encode())
    with urllib.request.urlopen(req, timeout=20) as r:
        if json.loads(r.read()).get("version") != 1:
            fail("the chain was not published as version 1")
    item = wait_for("the published chain in the list",
                    lambda: driver.find_elements(By.CSS_SELECTOR, '#published-list li[data-name="greeter"]'), 30)[0]
    item.find_element(By.CSS_SELECTOR, "input").send_keys('{"name": "Ada"}')
    item.find_element(By.CSS_SELECTOR, "button").click()
    wait_for("the chain run by name", lambda: status("greet") == "completed", 30)
    node("greet").find_element(By.CSS_SELECTOR, ".row").click()
    wait_for("its output", lambda: "Hi Ada" in driver.find_element(By.ID, "detail-output").text)
    driver.find_element(By.ID, "detail-close").click()

    errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    if errors:
        fail(f"the page logged errors: {errors}")

    # The daemon restarts (in memory: a new epoch, seq from 0): the stream reconnects, is told to
    # resync, and the page reloads its view from the new daemon.
    epoch = driver.execute_script("return window.coworkerPage.state.epoch")
    stop_daemon()
    wait_for("the page to notice", lambda: driver.find_element(By.ID, "live").get_attribute("data-state") != "live")
    starts += 1
    start_daemon()
    wait_for("the new epoch", lambda: driver.execute_script("return window.coworkerPage.state.epoch") != epoch, 30)
    wait_for("the stream again", lambda: driver.find_element(By.ID, "live").get_attribute("data-state") == "live")
    wait_for("the old chains to go", lambda: not driver.find_elements(By.CSS_SELECTOR, "#chain-list li"))
    set_text(json.dumps(CHAIN))
    driver.find_element(By.ID, "submit").click()
    wait_for("the chain on the new daemon", lambda: driver.execute_script(
        "const n = document.querySelector('#tree > .node'); return n && n.dataset.status === 'completed'"), 30)
finally:
    driver.quit()
    if daemon and daemon.poll() is None:
        stop_daemon()
passed("web_ui.py: ok")  # after the browser quit: its scratch directory goes

"""Headless Chromium for the web view's tests (tests/cli/web_ui.py, tests/e2e/web_cluster.py):
Debian's chromium and chromium-driver through python3-selenium, and a wait that polls the page."""
import os
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from scratch import scratch_dir


def chromium():
    """A headless Chromium that keeps the page's console log (driver.get_log("browser")). Its profile
    and sockets go to a scratch directory (tests/e2e/scratch.py) instead of /tmp, where Chromium
    leaves them behind."""
    opts = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1000", "--no-first-run", "--disable-extensions"):
        opts.add_argument(flag)
    opts.binary_location = "/usr/bin/chromium"
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    env = dict(os.environ, TMPDIR=scratch_dir("coworker-chromium-"))
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver", env=env), options=opts)


def wait_for(what, check, timeout, fail):
    """Polls `check` until it returns something true, and returns that; past `timeout` seconds calls
    `fail` with what it waited for and the last thing `check` returned (or raised: an element
    replaced while it was read is looked for again)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as e:
            last = e
        time.sleep(0.05)
    return fail(f"timed out waiting for {what} (last: {last!r})")

#!/usr/bin/env bash
# The web view in Debian's headless Chromium (driven by python3-selenium and chromium-driver):
# `coworker serve --http` on free loopback ports, a chain typed into the page's text box with a
# parallel group and an onError, the drawn tree followed live to its final statuses, a run's
# details, a located validation error, cancel and re-submit, and a daemon restart under the open
# page (the stream reconnects and resyncs). Leaves web_ui.png in $COWORKER_ARTIFACTS (default: the
# working directory, build/tests under ctest). Fails when Chromium is missing.
set -euo pipefail
bin=$1
root=$2
PY=${COWORKER_PYTHON:-/usr/bin/python3}
artifacts=${COWORKER_ARTIFACTS:-$PWD}
tmp=$(mktemp -d)
fail() { echo "FAIL: $*" >&2; [[ -f $tmp/serve.log ]] && cat "$tmp/serve.log" >&2; exit 1; }
cleanup() { [[ -n ${serve_pid:-} ]] && kill -9 "$serve_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

command -v chromium >/dev/null || fail "chromium is not installed (scripts/install-deps.sh installs it)"
command -v chromedriver >/dev/null || fail "chromedriver is not installed (package chromium-driver)"
"$PY" -c 'import selenium' 2>/dev/null || fail "python3-selenium is not installed for $PY"

read -r req_port ev_port http_port < <("$PY" -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')

mkdir -p "$artifacts"
# web_ui.py starts the daemon, and restarts it once under the open page.
timeout 150 "$PY" "$root/tests/cli/web_ui.py" "http://127.0.0.1:$http_port/" "$artifacts/web_ui.png" "$tmp/serve.log" \
  "$bin" serve --ephemeral --workers none --requests "tcp://127.0.0.1:$req_port" --events "tcp://127.0.0.1:$ev_port" \
  --http "127.0.0.1:$http_port" || fail "the browser test failed"
grep -q "web view on http://127.0.0.1:$http_port/" "$tmp/serve.log" || fail "serve did not say where the web view is"
[[ -s $artifacts/web_ui.png ]] || fail "no screenshot at $artifacts/web_ui.png"

# The config file's http keys, the token from the environment, and no open address without one.
echo "{\"http\": {\"listen\": \"127.0.0.1:$http_port\"}, \"workers\": \"none\"}" >"$tmp/cfg.json"
COWORKER_HTTP_TOKEN=t0k "$bin" serve --ephemeral --config "$tmp/cfg.json" --requests "tcp://127.0.0.1:$req_port" \
  --events "tcp://127.0.0.1:$ev_port" 2>"$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 100); do grep -q "requests on" "$tmp/serve.log" && break; sleep 0.1; done
grep -q "web view on http://127.0.0.1:$http_port/ (token required)" "$tmp/serve.log" || fail "the config's http.listen was not used"
"$PY" - "http://127.0.0.1:$http_port" <<'PY' || fail "token checks over HTTP"
import sys, urllib.request, urllib.error
base = sys.argv[1]
def status(path, token=None):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
assert status("/api/ping")[0] == 401
assert status("/api/ping", "t0k")[0] == 200
code, text = status("/metrics", "t0k")
assert code == 200 and "# TYPE coworker_runs_started_total counter" in text, text[:200]
assert status("/")[0] == 200
PY
kill -TERM "$serve_pid"
wait "$serve_pid" || fail "serve exited $? on SIGTERM"
serve_pid=
set +e
timeout 10 "$bin" serve --ephemeral --workers none --requests "tcp://127.0.0.1:$req_port" --events "tcp://127.0.0.1:$ev_port" \
  --http "0.0.0.0:$http_port" 2>"$tmp/serve.log"
code=$?
set -e
[[ $code == 2 ]] && grep -q "refusing to serve HTTP on 0.0.0.0:$http_port without a token" "$tmp/serve.log" \
  || fail "a non-loopback address without a token was not refused (exit $code)"
echo "web ui: ok (screenshot: $artifacts/web_ui.png)"

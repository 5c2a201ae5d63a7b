#!/usr/bin/env bash
# summarize/extract/interpret routed to an OpenAI-compatible endpoint by configuration (here
# COWORKER_LLM_URL): a small local HTTP server stands in for the model. The chain is unchanged.
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
PY=${COWORKER_PYTHON:-/usr/bin/python3}
fail() { echo "FAIL: $*" >&2; cat "$tmp/server.log" >&2 || true; exit 1; }
cleanup() { [[ -n ${srv:-} ]] && kill "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

cat >"$tmp/server.py" <<'PY'
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        system = body["messages"][0]["content"]
        answer = ({"summary": "LLM summary of " + body["messages"][1]["content"][:20]} if "Summarize" in system else
                  {"items": [{"text": "call Ann", "due": None}]} if "action items" in system else
                  {"intent": "remind", "confidence": 0.99, "entities": {}})
        print(self.path, self.headers.get("Authorization"), body["model"], flush=True)
        out = json.dumps({"choices": [{"message": {"role": "assistant", "content": json.dumps(answer)}}]}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out))); self.end_headers(); self.wfile.write(out)
    def log_message(self, *a): pass
s = HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
"$PY" "$tmp/server.py" >"$tmp/server.log" 2>&1 &
srv=$!
for _ in $(seq 50); do [[ -s $tmp/server.log ]] && break; sleep 0.1; done
port=$(head -1 "$tmp/server.log")

cat >"$tmp/chain.json" <<'JSON'
{"operation":"run","input":{"text":"Please call Ann tomorrow."},"children":[
  {"id":"s","operation":"summarize","input":"{{input.text}}"},
  {"id":"e","operation":"extract","input":"{{input.text}}"},
  {"id":"i","operation":"interpret","input":"{{input.text}}"}]}
JSON
out=$(COWORKER_LLM_URL=http://127.0.0.1:$port/v1 COWORKER_LLM_KEY=sk-test COWORKER_LLM_MODEL=test-model \
      "$bin" run --ephemeral --json "$tmp/chain.json") || fail "run with the LLM endpoint: $out"
"$PY" -c 'import json,sys; t=json.loads(sys.argv[1]); o={c["stepId"]: c["output"] for c in t["children"]}
assert o["s"]["summary"].startswith("LLM summary of Please call Ann"), o
assert o["e"]["items"][0]["text"] == "call Ann", o
assert o["i"]["intent"] == "remind", o' "$out" || fail "outputs did not come from the endpoint: $out"
grep -q "^/v1/chat/completions Bearer sk-test test-model" "$tmp/server.log" || fail "request path, key or model not sent"

# Nothing configured: the offline built-ins answer.
out=$("$bin" run --ephemeral --json "$tmp/chain.json")
grep -q '"summary": "Please call Ann tomorrow."' <<<"$out" || fail "offline summarize: $out"

# An endpoint that is not there: the step fails with a clear error.
set +e
err=$(COWORKER_LLM_URL=http://127.0.0.1:1/v1 "$bin" run --ephemeral "$tmp/chain.json" 2>&1); code=$?
set -e
[[ $code == 1 ]] || fail "unreachable endpoint: exit $code"
grep -q "llm_error: summarize: cannot reach http://127.0.0.1:1/v1" <<<"$err" || fail "unreachable endpoint error: $err"
echo "llm route: ok"

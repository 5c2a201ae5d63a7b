#!/usr/bin/env python3
"""Published chains through a real `coworker serve` (issue 19), from pyzmq, HTTP and the CLI: publish,
republish the same (same version), publish a change (new version); `coworker publish` and `coworker
chains` against the daemon; a run by name keeps chainName/chainVersion/chainSha256; a call by name
whose caller reads a field the callee's outputSchema lacks is refused with its pointer; aliases move;
after a kill -9 the definitions are still there; `coworker run --chain` runs one in process on the
store file once the daemon has stopped.

    published.py /path/to/coworker
"""
import json
import os
import signal
import subprocess
import sys

from scratch import passed
from serve_harness import Run

T = Run(sys.argv[1], "published")
fail, check = T.fail, T.check


def greeter(greeting):
    return {"operation": "run", "children": [
        {"id": "greet", "operation": "message", "role": "assistant", "input": {"text": greeting + ", {{input.name}}!"}}]}


OUT = {"type": "object", "properties": {"role": {"type": "string"}, "text": {"type": "string"}}}
IN = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}}


def cli(*args):
    out = subprocess.run([T.binary, *args], capture_output=True, text=True, timeout=60)
    return out.returncode, out.stdout, out.stderr


d = T.start([])

# 1. Versions: the same content is the same version, a change is the next one.
r = d.call({"type": "publish", "name": "greeter", "chain": greeter("Hello"), "inputSchema": IN, "outputSchema": OUT})
check(r["ok"] and r["version"] == 1 and r["created"] and len(r["sha256"]) == 64, r)
first = r["sha256"]
same = json.loads(json.dumps(greeter("Hello"), sort_keys=True))  # another key order
r = d.call({"type": "publish", "name": "greeter", "chain": same, "outputSchema": OUT, "inputSchema": IN})
check(r["ok"] and r["version"] == 1 and not r["created"] and r["sha256"] == first, r)
path = os.path.join(T.tmp, "hi.json")
with open(path, "w") as f:
    json.dump(greeter("Hi"), f)
schema_in, schema_out = os.path.join(T.tmp, "in.json"), os.path.join(T.tmp, "out.json")
for p, s in ((schema_in, IN), (schema_out, OUT)):
    with open(p, "w") as f:
        json.dump(s, f)
rc, out, err = cli("publish", path, "--name", "greeter", "--input-schema", schema_in, "--output-schema", schema_out,
                   "--requests", d.req)
check(rc == 0 and out.startswith("greeter@2 sha256:"), (rc, out, err))
rc, out, err = cli("chains", "--requests", d.req)
check(rc == 0 and out.startswith("greeter") and "2 versions, latest 2" in out, (rc, out, err))
r = d.call({"type": "publish", "name": "bad name", "chain": greeter("x")})
check(not r["ok"] and r["error"]["path"] == "/name", r)
r = d.call({"type": "publish", "name": "broken", "chain": {"operation": "run", "children": [{"id": "a", "operation": "nope"}]}})
check(not r["ok"] and r["error"]["code"] == "unknown_operation" and r["error"]["path"] == "/chain/children/0/operation", r)

# 2. A run by name, pinned: its root record names the chain.
r = d.call({"type": "run", "chainRef": "greeter@1", "input": {"name": "Ada"}, "wait": True})
check(r["ok"] and r["status"] == "completed", r)
tree = r["tree"]
check(tree["chainName"] == "greeter" and tree["chainVersion"] == 1 and tree["chainSha256"] == first, tree)
check(tree["output"]["last"]["text"] == "Hello, Ada!", tree["output"])
r = d.call({"type": "run", "chainRef": "greeter", "input": {"name": ""}})
check(not r["ok"] and r["error"]["code"] == "invalid_input" and r["error"]["path"] == "/input/name", r)
r = d.call({"type": "run", "chainRef": "greeter@7"})
check(not r["ok"] and r["error"]["code"] == "not_found" and r["error"]["path"] == "/chainRef", r)

# 3. A call by name: its output is the callee's result, checked against its outputSchema.
caller = {"operation": "run", "children": [
    {"id": "g", "operation": "run", "chain": "greeter", "input": {"name": "Bo"}},
    {"id": "say", "operation": "log", "input": {"saw": "{{g.output.text}}"}}]}
r = d.call({"type": "run", "chain": caller, "wait": True})
check(r["ok"] and r["status"] == "completed", r)
g = r["tree"]["children"][0]
check(g["chainName"] == "greeter" and g["chainVersion"] == 2 and g["output"]["text"] == "Hi, Bo!", g)
caller["children"][1]["input"]["saw"] = "{{g.output.mood}}"
r = d.call({"type": "run", "chain": caller})
check(not r["ok"] and r["error"]["code"] == "unknown_reference" and r["error"]["path"] == "/chain/children/1/input/saw", r)
caller["children"][1]["input"]["saw"] = "{{g.output.text}}"
caller["children"][0]["input"] = {"name": 7}
r = d.call({"type": "run", "chain": caller})
check(not r["ok"] and r["error"]["code"] == "invalid_input" and r["error"]["path"] == "/chain/children/0/input/name", r)

# 4. Aliases move; over HTTP too.
r = d.call({"type": "alias", "name": "greeter", "alias": "prod", "version": 1})
check(r == {"ok": True, "name": "greeter", "alias": "prod", "version": 1}, r)
status, body = d.post("/api/runs?wait=1", {"chainRef": "greeter:prod", "input": {"name": "Cy"}})
check(status == 200 and body["tree"]["chainVersion"] == 1, (status, body))
status, body = d.post("/api/chains/greeter/alias", {"alias": "prod", "version": 2})
check(status == 200 and body["version"] == 2, (status, body))
status, body = d.post("/api/chains", {"name": "other", "chain": greeter("Yo")})
check(status == 200 and body["version"] == 1, (status, body))
listed = d.get("/api/chains")["chains"]
check([c["name"] for c in listed] == ["greeter", "other"] and listed[0]["aliases"] == {"prod": 2}, listed)
status, body = d.post("/api/chains/ghost/alias", {"alias": "prod", "version": 1})
check(status == 404, (status, body))

# 5. The definitions survive a kill -9.
d.stop(signal.SIGKILL)
d = T.start([])
r = d.call({"type": "chains"})
check(r["ok"] and r["chains"] == listed, r)
r = d.call({"type": "run", "chainRef": "greeter:prod", "input": {"name": "Di"}, "wait": True})
check(r["ok"] and r["tree"]["output"]["last"]["text"] == "Hi, Di!", r)
d.stop(signal.SIGTERM)

# 6. In process, on the same store file.
rc, out, err = cli("run", "--chain", "greeter@1", "--input", '{"name":"Ed"}', "--db", T.db, "--json")
check(rc == 0 and json.loads(out)["output"]["last"]["text"] == "Hello, Ed!", (rc, out, err))
rc, out, err = cli("chains", "--db", T.db)
check(rc == 0 and "greeter" in out and "prod→2" in out, (rc, out, err))
passed("published: ok")

#!/usr/bin/env bash
# `coworker run` as a user runs it: live tree, --json, --input, exit codes 0 / 1 / 2.
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat >"$tmp/ok.json" <<'JSON'
{"operation":"run","input":{"ms":5},"children":[
  {"id":"pause","operation":"wait"},
  {"id":"skipme","operation":"log","if":"{{pause.output.ms}} > 100"},
  {"id":"inner","operation":"run","children":[{"id":"say","operation":"log","input":{"text":"hi {{pause.output.ms}}"}}]},
  {"id":"broken","operation":"wait","input":{"ms":-1},"onError":{"id":"fallback","operation":"log","input":"{{error.code}}"}}]}
JSON
out=$("$bin" run --ephemeral "$tmp/ok.json") || fail "run of a good chain exited $?"
grep -q "✓ pause (wait)" <<<"$out" || fail "no completed pause line in: $out"
grep -q "↷ skipme (log)" <<<"$out" || fail "no skipped line in: $out"
grep -q '    ✓ say (log).*"text":"hi 5"' <<<"$out" || fail "nested step not indented with its output: $out"
grep -q "✗ broken (wait).*invalid_input.*(recovered)" <<<"$out" || fail "no recovered failure line: $out"
grep -q "chain run-.* completed" <<<"$out" || fail "no summary line: $out"

json=$("$bin" run --ephemeral --json --input '{"ms":1}' "$tmp/ok.json") || fail "--json run exited $?"
python3 - "$json" <<'PY' || fail "--json output is not the record tree"
import json, sys
t = json.loads(sys.argv[1])
assert t["status"] == "completed", t["status"]
assert t["input"] == {"ms": 1}, t["input"]
assert [c["stepId"] for c in t["children"]] == ["pause", "skipme", "inner", "broken"]
assert t["children"][3]["recovered"] is True
PY

cat >"$tmp/bad.json" <<'JSON'
{"operation":"run","children":[{"id":"a","operation":"log","onerror":{"operation":"log"}}]}
JSON
set +e
err=$("$bin" run --ephemeral "$tmp/bad.json" 2>&1); code=$?
set -e
[[ $code == 2 ]] || fail "invalid chain exited $code, want 2"
grep -q "/children/0/onerror" <<<"$err" || fail "invalid chain error has no path: $err"

cat >"$tmp/fails.json" <<'JSON'
{"operation":"run","children":[{"id":"a","operation":"wait","input":{"ms":"soon"}}]}
JSON
set +e
err=$("$bin" run --ephemeral "$tmp/fails.json" 2>&1); code=$?
set -e
[[ $code == 1 ]] || fail "failing chain exited $code, want 1"
grep -q "invalid_input" <<<"$err" || fail "failing chain gives no reason: $err"

# --config FILE means the JSON config file here too (as for serve): its limits and db apply, and
# the flags win over it.
cat >"$tmp/cw.json" <<JSON
{"db": "$tmp/from-config.db", "limits": {"steps": 3}}
JSON
set +e
err=$("$bin" run --config "$tmp/cw.json" "$tmp/ok.json" 2>&1); code=$?
set -e
[[ $code == 2 ]] || fail "a chain over the config file's steps limit exited $code, want 2: $err"
grep -q "the limit is 3" <<<"$err" || fail "the config's limit is not named: $err"
[[ -f "$tmp/from-config.db" ]] || fail "the config file's db was not used"
"$bin" run --config "$tmp/cw.json" --ephemeral "$tmp/fails.json" >/dev/null 2>&1 && fail "fails.json completed"
echo '{"limits": {"steps": "three"}}' >"$tmp/badcfg.json"
set +e
err=$("$bin" run --config "$tmp/badcfg.json" --ephemeral "$tmp/ok.json" 2>&1); code=$?
set -e
[[ $code == 2 ]] || fail "a bad config file exited $code, want 2"
grep -q "badcfg.json at /limits/steps" <<<"$err" || fail "a bad config file's error names no place: $err"

# Doctypes: --doctypes DIR adds schemas to the built-in ones; a directory given to --config is read
# as --doctypes with a warning (what --config meant for run/import before).
mkdir "$tmp/types"
echo '{"doctype": "Pet", "strict": true, "fields": {"name": {"type": "string", "required": true}}}' >"$tmp/types/Pet.json"
echo '[{"name": "rex", "wings": 2}]' >"$tmp/pets.json"
set +e
err=$("$bin" import Pet "$tmp/pets.json" --db "$tmp/docs.db" --doctypes "$tmp/types" 2>&1); code=$?
set -e
[[ $code == 1 ]] && grep -q "invalid_document" <<<"$err" || fail "the strict Pet schema was not applied ($code): $err"
set +e
err=$("$bin" import Pet "$tmp/pets.json" --db "$tmp/docs.db" --config "$tmp/types" 2>&1); code=$?
set -e
grep -q "warning: --config takes the JSON config file" <<<"$err" && grep -q "invalid_document" <<<"$err" \
  || fail "--config DIR was not read as --doctypes with a warning: $err"
echo '[{"title": 5}]' >"$tmp/tasks.json"
"$bin" import Task "$tmp/tasks.json" --db "$tmp/docs.db" >/dev/null 2>&1 && fail "the built-in Task schema let a number title in"
echo "cli run: ok"

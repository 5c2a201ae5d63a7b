#!/usr/bin/env bash
# `coworker validate`: the examples are valid (exit 0, summary), an invalid fixture exits 2 and
# names the JSON Pointer, standard input works, an unreadable file exits 1.
# Usage: validate.sh <coworker binary> <project root>
set -uo pipefail
bin=$1
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for f in "$root"/examples/*.json; do
  out=$("$bin" validate "$f" 2>"$tmp/err") || fail "$f: exit $? ($(cat "$tmp/err"))"
  grep -q "valid chain" <<<"$out" || fail "$f: no summary in: $out"
  grep -q "operations:" <<<"$out" || fail "$f: no operations in: $out"
done
out=$("$bin" validate "$root/examples/triage.json")
grep -q "9 steps" <<<"$out" || fail "triage: step count: $out"
grep -q "notify: create Notification  \[if" <<<"$out" || fail "triage: tree: $out"

# An invalid fixture: the chain inside the fixture file, written out on its own.
python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["chain"], open(sys.argv[2], "w"))' \
  "$root/tests/fixtures/invalid/unknown_field_onerror_typo.json" "$tmp/bad.json" || fail "python3"
"$bin" validate "$tmp/bad.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] || fail "invalid chain: exit $rc, want 2"
grep -q "^/children/1/onerror unknown_field: .*did you mean 'onError'" "$tmp/err" || fail "invalid chain: $(cat "$tmp/err")"

# Every error, one per line.
printf '%s' '{"operation":"run","children":[{"id":"a","operation":"sned"},{"id":"a","operation":"log"},{"operation":"log","onerror":{}}]}' >"$tmp/three.json"
"$bin" validate "$tmp/three.json" 2>"$tmp/err"
[ $? -eq 2 ] || fail "three: exit"
[ "$(grep -c '^/children/' "$tmp/err")" -eq 3 ] || fail "three: $(cat "$tmp/err")"

# Syntax errors print "/" as the path.
printf '{"operation":' | "$bin" validate - 2>"$tmp/err"
[ $? -eq 2 ] || fail "syntax: exit"
grep -q '^/ bad_json: ' "$tmp/err" || fail "syntax: $(cat "$tmp/err")"

# Standard input.
out=$("$bin" validate - <"$root/examples/hello.json") || fail "stdin: exit $?"
grep -q "<stdin>: valid chain" <<<"$out" || fail "stdin: $out"

# --json on both outcomes.
out=$("$bin" validate --json "$root/examples/nested.json") || fail "json valid: exit $?"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["valid"] and d["steps"] > 1 and d["tree"]["form"] == "chain", d' "$out" \
  || fail "json valid: $out"
out=$("$bin" validate --json "$tmp/bad.json")
[ $? -eq 2 ] || fail "json invalid: exit"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert not d["valid"] and d["errors"][0]["path"] == "/children/1/onerror", d' "$out" \
  || fail "json invalid: $out"

# Unknown operations: refused by default, accepted when named.
printf '%s' '{"operation":"run","children":[{"operation":"custom"}]}' >"$tmp/custom.json"
"$bin" validate "$tmp/custom.json" 2>/dev/null
[ $? -eq 2 ] || fail "custom op should be unknown"
"$bin" validate --operation custom "$tmp/custom.json" >/dev/null || fail "--operation custom"

# A file that cannot be read.
"$bin" validate "$tmp/missing.json" 2>"$tmp/err"
[ $? -eq 1 ] || fail "missing file: exit, want 1"

echo "cli validate: ok"

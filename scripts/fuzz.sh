#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz, assembles their seed corpora and runs each
# for FUZZ_SECONDS, two at a time. Fails, naming the input, when a target finds a crash, a sanitizer
# report, a broken property (fuzz/*_checks.hpp), a timeout, a leak or an out-of-memory.
#   scripts/fuzz.sh                   all seven targets (chain template condition request worker http config)
#   scripts/fuzz.sh chain request     only these
#   FUZZ_SECONDS (default 45)         time per target
#   FUZZ_JOBS (default 2)             targets run at the same time
#   BUILD_DIR (default build-fuzz)    the clang build; its corpus/<target> keeps what was learned
# docs/testing.md ("Fuzzing") says how to run longer and how to keep a finding as a regression test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)
build_dir=${BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-45}
jobs=${FUZZ_JOBS:-2}
all=(chain template condition request worker http config)
targets=("$@")
((${#targets[@]})) || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz: unknown target '$t' (${all[*]})" >&2; exit 2; }
done

echo "== fuzz: clang build in $build_dir" >&2
CC=clang CXX=clang++ BUILD_DIR="$build_dir" BUILD_TYPE=Debug CMAKE_ARGS="-DCOWORKER_FUZZ=ON" \
  "$root/scripts/build.sh"
echo "== fuzz: built in $(( $(date +%s) - start )) s" >&2

# Seeds: committed hand-written ones, earlier findings, and what examples/ and tests/fixtures hold.
seeds=$(mktemp -d "${TMPDIR:-/tmp}/coworker-seeds.XXXXXX")
trap 'rm -rf "$seeds"' EXIT
for t in "${all[@]}"; do
  mkdir -p "$seeds/$t" "$build_dir/corpus/$t"
  cp "$root/fuzz/seeds/$t/"* "$seeds/$t/" 2>/dev/null || true
  [[ -d "$root/tests/fixtures/fuzz/$t" ]] && cp "$root/tests/fixtures/fuzz/$t/"* "$seeds/$t/" 2>/dev/null || true
done
python3 - "$root" "$seeds" <<'EOF'
import glob, json, os, sys
root, out = sys.argv[1], sys.argv[2]
def save(target, name, data):
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
def walk(v):
    yield v
    if isinstance(v, dict):
        for x in v.values(): yield from walk(x)
    elif isinstance(v, list):
        for x in v: yield from walk(x)
docs = []  # (name, chain document text, parsed or None)
for p in sorted(glob.glob(f"{root}/examples/*.json") + glob.glob(f"{root}/tests/fixtures/valid/*.json")):
    text = open(p, "rb").read()
    docs.append((os.path.basename(os.path.dirname(p)) + "-" + os.path.basename(p), text, json.loads(text)))
for p in sorted(glob.glob(f"{root}/tests/fixtures/invalid/*.json")):
    f = json.load(open(p))
    name = "invalid-" + os.path.basename(p)
    if "text" in f: docs.append((name, f["text"].encode("utf-8", "surrogatepass"), None))
    elif "bytes" in f: docs.append((name, bytes.fromhex(f["bytes"]), None))
    else: docs.append((name, json.dumps(f["chain"]).encode(), f["chain"]))
for name, text, doc in docs:
    save("chain", name, text)
    if doc is None: continue
    if isinstance(doc, dict):
        save("request", name, json.dumps({"type": "run", "wait": True, "chain": doc}))
    for i, v in enumerate(walk(doc)):
        if not isinstance(v, dict): continue
        if isinstance(v.get("if"), str): save("condition", f"{name}-{i}", v["if"])
        if "input" in v: save("template", f"{name}-{i}", json.dumps(v["input"]))
        if isinstance(v.get("forEach"), str): save("template", f"{name}-{i}-forEach", json.dumps(v["forEach"]))
EOF

out="$build_dir/fuzz-out"
rm -rf "$out"
mkdir -p "$out"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
run_target() {
  local t=$1 rc=0
  # New inputs go to the first directory (kept across runs); the seeds are read only.
  "$build_dir/fuzz/fuzz_$t" "$build_dir/corpus/$t" "$seeds/$t" -dict="$root/fuzz/coworker.dict" \
    -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$out/$t-" >"$out/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$out/$t.rc"
}

echo "== fuzz: ${targets[*]}, $seconds s each, $jobs at a time (logs in $out)" >&2
for t in "${targets[@]}"; do
  while (( $(jobs -rp | wc -l) >= jobs )); do wait -n || true; done
  run_target "$t" &
done
wait
failed=0
for t in "${targets[@]}"; do
  rc=$(cat "$out/$t.rc" 2>/dev/null || echo 1)
  runs=$(grep -oE 'Done [0-9]+ runs' "$out/$t.log" | tail -1 || true)
  found=$(ls "$out/$t-"* 2>/dev/null || true)
  if [[ $rc -ne 0 || -n "$found" ]]; then
    failed=1
    echo "fuzz: $t FAILED (exit $rc)" >&2
    grep -E 'ERROR|SUMMARY|runtime error|fuzz_'"$t"':|Test unit written' "$out/$t.log" | head -20 >&2 || true
    for f in $found; do echo "fuzz: $t input: $f" >&2; done
    echo "fuzz: full log: $out/$t.log" >&2
  else
    echo "fuzz: $t ok (${runs:-no run count}; corpus $(ls "$build_dir/corpus/$t" | wc -l) inputs)" >&2
  fi
done
echo "== fuzz: done in $(( $(date +%s) - start )) s" >&2
if ((failed)); then
  echo "fuzz: reproduce with $build_dir/fuzz/fuzz_<target> <input>; keep it as a regression test in" \
       "tests/fixtures/fuzz/<target>/ (docs/testing.md, Fuzzing)" >&2
  exit 1
fi

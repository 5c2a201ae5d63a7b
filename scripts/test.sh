#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite: the regular build first, then
# the same tests under AddressSanitizer + UndefinedBehaviorSanitizer (and LeakSanitizer), then the
# engine and end-to-end tests (and the cluster suite on PostgreSQL) under ThreadSanitizer, then the libFuzzer targets for 30 s each
# (scripts/fuzz.sh, clang; FUZZ_SECONDS changes it). Fails when any test fails or a fuzz
# target finds something.
#   COWORKER_SKIP_SANITIZE=1 skips the sanitizer pass (quicker local runs).
#   COWORKER_SKIP_TSAN=1 skips the ThreadSanitizer pass.
#   COWORKER_SKIP_FUZZ=1 skips the fuzz pass.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)

echo "== build" >&2
BUILD_DIR="$root/build" "$root/scripts/build.sh"
echo "== tests" >&2
ctest --test-dir "$root/build" --output-on-failure -j2

if [[ "${COWORKER_SKIP_SANITIZE:-0}" != 1 ]]; then
  echo "== sanitizer build (ASan + UBSan)" >&2
  BUILD_DIR="$root/build-asan" COWORKER_SANITIZE=ON BUILD_TYPE=Debug \
    CMAKE_ARGS="-DCOWORKER_BUILD_BENCH=OFF" "$root/scripts/build.sh"
  echo "== tests under sanitizers" >&2
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ctest --test-dir "$root/build-asan" --output-on-failure -j2
fi
if [[ "${COWORKER_SKIP_TSAN:-0}" != 1 ]]; then
  echo "== ThreadSanitizer build (engine and end-to-end tests)" >&2
  cmake -S "$root" -B "$root/build-tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOWORKER_TSAN=ON \
    -DCOWORKER_BUILD_BENCH=OFF >/dev/null
  cmake --build "$root/build-tsan" -j2 --target engine_tests e2e_tests
  echo "== engine and end-to-end tests under ThreadSanitizer" >&2
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1 suppressions=$root/tests/tsan.supp"
  # setarch -R: g++ 12's TSan cannot map its shadow under the high-entropy ASLR of newer kernels.
  # engine_tests_postgresql is the cluster suite there (tests/CMakeLists.txt); ctest adds the
  # PostgreSQL server it needs (its postgres_server fixture).
  setarch "$(uname -m)" -R ctest --test-dir "$root/build-tsan" -R '^(engine_tests|e2e_tests|engine_tests_postgresql)$' \
    --output-on-failure -j2
fi
if [[ "${COWORKER_SKIP_FUZZ:-0}" != 1 ]]; then
  echo "== fuzz (libFuzzer + ASan + UBSan, clang)" >&2
  FUZZ_SECONDS=${FUZZ_SECONDS:-30} "$root/scripts/fuzz.sh"
fi
echo "== all tests passed in $(( $(date +%s) - start )) s" >&2

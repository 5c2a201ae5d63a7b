#!/usr/bin/env bash
# The installable package as a user takes it (docs/install.md):
#  1. `cmake --install` into a scratch prefix; examples/embed builds out of tree against it with
#     find_package(coworker CONFIG) and, apart, with pkg-config; both programs run a chain.
#  2. `cpack` makes the .deb; `dpkg -x` unpacks it into a scratch root; its control names its
#     dependencies and conffile; its program runs the demo (examples/triage.json on the emails)
#     with the packaged config, built-in doctypes included, far from the source tree.
#   install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" || fail "cmake --install: $(cat "$tmp/install.log")"
for f in include/coworker/coworker.hpp include/coworker/engine.hpp lib/libcoworker.so lib/cmake/coworker/coworkerConfig.cmake \
         lib/pkgconfig/coworker.pc bin/coworker share/coworker/doctypes/Task.json; do
  [[ -e "$tmp/prefix/$f" ]] || fail "cmake --install put no $f"
done
[[ -e "$tmp/prefix/etc" || -e "$tmp/prefix/lib/systemd" ]] && fail "cmake --install wrote the .deb's service files"
# Only the public headers, and they need no CAF, ZeroMQ or SQLite.
if grep -rn '#include <\(caf\|zmq\|sqlite3\)' "$tmp/prefix/include"; then fail "a public header needs a private dependency"; fi
grep -q "caf\|zmq\|sqlite" "$tmp/prefix/lib/cmake/coworker/"*.cmake && fail "the CMake package names a private dependency"

# find_package(coworker CONFIG REQUIRED) → coworker::coworker, out of tree.
cmake -S "$root/examples/embed" -B "$tmp/embed" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=Release \
  >"$tmp/cmake.log" 2>&1 || fail "configure examples/embed: $(cat "$tmp/cmake.log")"
cmake --build "$tmp/embed" >"$tmp/build.log" 2>&1 || fail "build examples/embed: $(cat "$tmp/build.log")"
out=$("$tmp/embed/embed") || fail "the CMake-built embed example failed: $out"
grep -q 'status: "completed", said: "hello, coworker"' <<<"$out" || fail "the CMake-built example said: $out"

# pkg-config, with a plain compiler command.
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
[[ "$(pkg-config --modversion coworker)" == [0-9]* ]] || fail "pkg-config has no coworker"
# shellcheck disable=SC2046
g++ -O1 -o "$tmp/embed-pc" "$root/examples/embed/embed.cpp" $(pkg-config --cflags --libs coworker) \
  -Wl,-rpath,"$tmp/prefix/lib" 2>"$tmp/gxx.log" || fail "g++ with pkg-config: $(cat "$tmp/gxx.log")"
out=$("$tmp/embed-pc") || fail "the pkg-config-built example failed: $out"
grep -q 'said: "hello, coworker"' <<<"$out" || fail "the pkg-config-built example said: $out"
echo "installed package: the embed example builds with find_package and with pkg-config, and runs"

# The .deb.
(cd "$build" && cpack -G DEB -B "$tmp/deb" >"$tmp/cpack.log" 2>&1) || fail "cpack: $(cat "$tmp/cpack.log")"
deb=$(ls "$tmp"/deb/coworker_*.deb) || fail "cpack made no coworker_*.deb: $(ls -R "$tmp/deb")"
dpkg-deb -f "$deb" Depends | grep -q "libcaf" || fail "the .deb does not depend on CAF: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -f "$deb" Depends | grep -q "libzmq5" || fail "the .deb does not depend on libzmq5"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx "/etc/coworker/coworker.json" \
  || fail "the config is not a conffile"
dpkg -x "$deb" "$tmp/root"
for f in usr/bin/coworker usr/lib/libcoworker.so etc/coworker/coworker.json lib/systemd/system/coworker.service \
         usr/share/coworker/doctypes/Email.json usr/share/doc/coworker/examples/triage.json; do
  [[ -e "$tmp/root/$f" ]] || fail "the .deb has no /$f: $(dpkg-deb -c "$deb")"
done
grep -qx "ExecStart=/usr/bin/coworker serve --config /etc/coworker/coworker.json" "$tmp/root/lib/systemd/system/coworker.service" \
  || fail "the unit does not run the packaged config"
grep -q '"/var/lib/coworker/coworker.db"' "$tmp/root/etc/coworker/coworker.json" || fail "the packaged config keeps no store"

# The packaged program runs the demo with the packaged config (the db flag keeps it out of /var/lib),
# from a directory that is not the source tree; the doctypes it checks against are built in.
cw="$tmp/root/usr/bin/coworker"
ex="$tmp/root/usr/share/doc/coworker/examples"
cd "$tmp"
"$cw" import Email "$ex/data/emails.json" --config "$tmp/root/etc/coworker/coworker.json" --db "$tmp/demo.db" >/dev/null \
  || fail "import with the packaged program"
out=$("$cw" run "$ex/triage.json" --config "$tmp/root/etc/coworker/coworker.json" --db "$tmp/demo.db" 2>&1) \
  || fail "the packaged program's demo run failed: $out"
grep -q "completed" <<<"$out" || fail "the demo chain did not complete: $out"
"$cw" docs Task --db "$tmp/demo.db" | grep -q "1 Task document" || fail "the demo made no task"
echo '[{"title": 5}]' >"$tmp/bad-task.json"
"$cw" import Task "$tmp/bad-task.json" --db "$tmp/demo.db" >/dev/null 2>&1 && fail "the packaged program has no Task schema"
echo "package: ok ($(du -h "$deb" | cut -f1) .deb)"

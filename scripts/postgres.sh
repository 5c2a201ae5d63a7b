#!/usr/bin/env bash
# A PostgreSQL 15 server of its own (Debian's postgresql-15), for the tests and for trying a cluster
# (docs/cluster.md): made in a fresh temporary directory, listening on 127.0.0.1 on a free port, as
# the `postgres` user when run as root (initdb refuses root), as the caller otherwise. Debian's own
# system cluster is not touched.
#   scripts/postgres.sh start STATE   starts one; STATE/url gets its connection URL
#                                     (postgresql://coworker@127.0.0.1:PORT/postgres, no password:
#                                     trust on loopback only), STATE/dir its directory
#   scripts/postgres.sh stop STATE    stops it (immediate) and deletes its directory
#   scripts/postgres.sh restart STATE stops it (immediate: every connection breaks) and starts it
#                                     again on the same port and data
set -euo pipefail
cmd=${1:-}
state=${2:-}
[[ ( $cmd == start || $cmd == stop || $cmd == restart ) && -n $state ]] ||
  { echo "usage: $0 start|stop|restart STATE_DIR" >&2; exit 2; }
bin=/usr/lib/postgresql/15/bin
as_owner=()
[[ $(id -u) -eq 0 ]] && as_owner=(runuser -u postgres --)

if [[ $cmd == stop ]]; then
  [[ -f $state/dir ]] || exit 0
  dir=$(cat "$state/dir")
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir" "$state/url" "$state/dir"
  exit 0
fi

if [[ $cmd == restart ]]; then
  dir=$(cat "$state/dir")
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w restart -l "$dir/server.log" >/dev/null
  exit 0
fi

[[ -x $bin/initdb ]] || { echo "postgres.sh: $bin/initdb is missing (install postgresql-15: scripts/install-deps.sh)" >&2; exit 1; }
mkdir -p "$state"
"$0" stop "$state"  # one left by an earlier run that did not stop it
dir=$(mktemp -d "${TMPDIR:-/tmp}/coworker-pg.XXXXXX")
chmod 755 "$dir"
[[ ${#as_owner[@]} -gt 0 ]] && chown postgres: "$dir"
echo "$dir" >"$state/dir"
"${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U coworker --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
# A free port: the kernel's pick for a socket bound to port 0 (another process could take it before
# the server does: then start again).
for attempt in 1 2 3; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
       -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=200" \
       start >/dev/null; then
    echo "postgresql://coworker@127.0.0.1:$port/postgres" >"$state/url"
    echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)" >&2
    exit 0
  fi
done
cat "$dir/server.log" >&2
exit 1

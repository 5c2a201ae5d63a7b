#!/usr/bin/env bash
# The folders tell the truth (docs/architecture.md): src/ decides, actors/ carries messages, edges/
# talks to the outside. This checks what each folder may include, and that the project cites only
# its own docs.
set -uo pipefail
root=${1:-.}
cd "$root" || exit 1
fail=0
complain() {
  echo "layout: $1" >&2
  fail=1
}
includes() {  # includes DIR REGEX: the #include lines of DIR's files matching REGEX
  grep -rnE "#include\s*[<\"]($2)" "$1" --include='*.cpp' --include='*.hpp' 2>/dev/null
}

# src/: plain C++. No actors, no sockets, no HTTP server.
if hits=$(includes src 'caf/|zmq|httplib'); then
  echo "$hits" >&2
  complain "src/ must not include CAF, ZeroMQ or httplib headers (move the code to actors/ or edges/)"
fi
# src/run/: the run state machine reads no clock and draws no randomness of its own: time and
# seeds come in with the events and the placement.
if hits=$(grep -rnE 'now_ms\(|steady_clock|system_clock|random_device|std::thread|sleep_for' src/run); then
  echo "$hits" >&2
  complain "src/run/ must not read clocks, draw randomness or start threads (they come in with the events)"
fi
# actors/: CAF, and only CAF, from the outside world.
for f in actors/*.cpp actors/*.hpp; do
  if ! grep -qE 'caf::|caf/all.hpp|"atoms.hpp"|"engine_core.hpp"|"engine_impl.hpp"' "$f"; then
    complain "$f has no CAF in it: it belongs in src/ (it decides) or edges/ (it talks to the outside)"
  fi
done
if hits=$(includes actors 'zmq|httplib'); then
  echo "$hits" >&2
  complain "actors/ must not include ZeroMQ or httplib (the edges do, in edges/)"
fi
# edges/: sockets and HTTP over the public engine API; no CAF, no actor internals.
if hits=$(includes edges 'caf/|atoms.hpp|engine_core.hpp'); then
  echo "$hits" >&2
  complain "edges/ must not include CAF or actor headers (use include/coworker/engine.hpp)"
fi
# The contract is docs/: no citations of documents outside the repository.
if hits=$(grep -rnE 'SPEC §|SPEC\.md|STACK\.md|STYLE\.md' --exclude-dir='build*' --exclude-dir=.git \
            --exclude=check_layout.sh --exclude-dir=node_modules . ); then
  echo "$hits" >&2
  complain "cite docs/ (the project's contract), not documents outside the repository"
fi
[ "$fail" = 0 ] && echo "layout: ok"
exit "$fail"

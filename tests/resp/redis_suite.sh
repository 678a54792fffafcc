#!/usr/bin/env bash
# Redis's own test suite, in external mode, against `keel server --resp`.
#
#   tests/resp/redis_suite.sh PATH_TO_KEEL CACHE_DIR [UNIT...]
#
# Fetches Debian's `redis` source package at test time with a temporary apt configuration (a
# deb-src entry for this system's release; /etc/apt is never touched), unpacks it once into
# CACHE_DIR (reruns reuse it), starts a keel server on free 127.0.0.1 ports (killed by PID at
# exit), and runs each unit with `./runtest --host ... --singledb` and the committed skip list
# (redis_suite_skips.txt: one test per line, `name ## why`; a name starting with '/' is a
# regular expression). Prints ok/err/skip/ignored counts per unit (ignored: excluded by tags).
#
# KEEL_DEBIAN_MIRROR overrides the mirror; KEEL_SUITE_LOGS=DIR keeps each unit's log there.
# Exit status: 0 when no test failed, 1 when one did, 77 (ctest's SKIP_RETURN_CODE) when the
# Debian mirror cannot be reached or tclsh is missing, so nothing was tested.
set -euo pipefail

skip_status=77
here=$(cd "$(dirname "$0")" && pwd)
keel=$(realpath "$1")
cache=$(realpath -m "$2")
shift 2
units=("$@")
if [ ${#units[@]} -eq 0 ]; then
  units=(unit/type/string unit/keyspace unit/multi unit/type/incr unit/expire unit/type/hash unit/scan unit/protocol
    unit/bitops unit/bitfield)
fi
# Tests whose tags say they need what an external server cannot give (DEBUG, replicas, restarts...).
tags="-needs:debug -needs:repl -needs:config-maxmemory -needs:save -needs:reset -needs:pfdebug -needs:other-server"
tags+=" -needs:latency -needs:script -needs:function -needs:config-resetstat"
unit_timeout_seconds=600
mirror=${KEEL_DEBIAN_MIRROR:-http://deb.debian.org/debian}  # another mirror, or an unreachable one to test

if ! command -v tclsh >/dev/null; then
  echo "redis_suite: SKIPPED: tclsh is missing (scripts/setup installs tcl)"
  exit $skip_status
fi

work=$(mktemp -d /tmp/keel-redis-suite.XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -9 "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- the test suite: Debian's redis source package, unpacked once into $cache/redis ---
fetch_suite() {
  local apt_dir=$work/apt codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/download"
  echo "deb-src $mirror $codename main" >"$apt_dir/sources.list"
  local apt_options=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "Debug::NoLocking=1"
    -o "Acquire::Retries=1" -o "Acquire::http::Timeout=20" -o "APT::Sandbox::User=root")
  echo "redis_suite: fetching Debian's redis source package ($codename) with a temporary apt configuration"
  if ! timeout 180 apt-get "${apt_options[@]}" -qq update >"$work/apt.log" 2>&1 ||
    grep -qE '^(W|E): (Failed to fetch|Some index files failed)' "$work/apt.log"; then
    cat "$work/apt.log"
    echo "redis_suite: SKIPPED: the Debian mirror ($mirror) is unreachable: cannot fetch the suite"
    exit $skip_status
  fi
  if ! (cd "$apt_dir/download" && timeout 300 apt-get "${apt_options[@]}" -qq source --download-only redis) \
    >>"$work/apt.log" 2>&1; then
    cat "$work/apt.log"
    echo "redis_suite: SKIPPED: could not download the redis source package from the Debian mirror"
    exit $skip_status
  fi
  rm -rf "$cache/redis" "$cache/unpack"
  mkdir -p "$cache/unpack"
  if command -v dpkg-source >/dev/null; then  # Debian's tree: upstream plus Debian's patches
    (cd "$cache/unpack" && dpkg-source --no-check -x "$apt_dir"/download/redis_*.dsc redis >/dev/null)
  else
    tar -xzf "$apt_dir"/download/redis_*.orig.tar.gz -C "$cache/unpack"
    mv "$cache"/unpack/redis-* "$cache/unpack/redis"
  fi
  mv "$cache/unpack/redis" "$cache/redis"
  rm -rf "$cache/unpack"
  basename "$apt_dir"/download/redis_*.dsc .dsc >"$cache/redis/.keel-fetched"
}

mkdir -p "$cache"
if [ ! -f "$cache/redis/.keel-fetched" ]; then
  fetch_suite
fi
suite=$cache/redis
echo "redis_suite: suite $(cat "$suite/.keel-fetched") in $suite"

# --- the server under test ---
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_server() {
  local attempt
  for attempt in 1 2 3 4 5; do  # a free port may be taken between probing and binding
    port=$(free_port)
    rm -rf "$work/data"
    "$keel" server --listen 127.0.0.1:0 --data "$work/data" --cluster-file "$work/keel.cluster" \
      --resp "127.0.0.1:$port" >"$work/server.log" 2>&1 &
    server_pid=$!
    disown "$server_pid"  # killed by PID at exit, without the shell's job notice
    local tries
    for tries in $(seq 1 150); do
      if grep -q "Redis clients on" "$work/server.log"; then break; fi
      if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
      sleep 0.1
    done
    if grep -q "Redis clients on" "$work/server.log"; then
      for tries in $(seq 1 150); do  # the cluster's first generation: wait until a write goes through
        if [ "$(redis-cli -p "$port" set __ready__ 1 2>/dev/null)" = OK ]; then
          redis-cli -p "$port" del __ready__ >/dev/null
          return 0
        fi
        sleep 0.1
      done
    fi
    kill -9 "$server_pid" 2>/dev/null || true
    server_pid=""
  done
  cat "$work/server.log"
  echo "redis_suite: keel server did not start"
  exit 1
}
start_server
echo "redis_suite: keel server pid $server_pid, Redis clients on 127.0.0.1:$port"

# The skip list without its reasons.
sed -E -e 's/[[:space:]]*##.*$//' -e '/^[[:space:]]*(#|$)/d' "$here/redis_suite_skips.txt" >"$work/skips"

total_ok=0 total_err=0 total_skip=0 total_ignored=0 failed_units=0
printf '%-18s %5s %5s %5s %8s\n' unit ok err skip ignored >"$work/summary"
for unit in "${units[@]}"; do
  log=$work/$(echo "$unit" | tr / _).log
  echo "== $unit"
  set +e
  (cd "$suite" && timeout $unit_timeout_seconds ./runtest --host 127.0.0.1 --port "$port" --singledb \
    --ignore-encoding --ignore-digest --durable --clients 1 --timeout 120 --tags "$tags" --skipfile "$work/skips" \
    --single "$unit") 2>&1 | sed -E 's/\x1b\[[0-9;]*m//g' >"$log"
  status=${PIPESTATUS[0]}
  set -e
  grep -E '^\[(err|exception)\]' -A12 "$log" || true
  ok=$(grep -c '^\[ok\]' "$log" || true)
  err=$(grep -c '^\[err\]' "$log" || true)
  skip=$(grep -c '^\[skip\]' "$log" || true)
  ignored=$(grep -c '^\[ignore\]' "$log" || true)
  if grep -q '^\[exception\]' "$log" || [ "$status" -eq 124 ]; then
    err=$((err + 1))
    echo "redis_suite: $unit stopped early (exception or timeout; status $status)"
    tail -20 "$log"
  elif [ "$status" -ne 0 ] && [ "$err" -eq 0 ]; then
    err=1
    echo "redis_suite: $unit: runtest exited with status $status"
    tail -20 "$log"
  fi
  printf '%-18s %5d %5d %5d %8d\n' "$unit" "$ok" "$err" "$skip" "$ignored" >>"$work/summary"
  total_ok=$((total_ok + ok)) total_err=$((total_err + err))
  total_skip=$((total_skip + skip)) total_ignored=$((total_ignored + ignored))
  [ "$err" -eq 0 ] || failed_units=$((failed_units + 1))
  if [ -n "${KEEL_SUITE_LOGS:-}" ]; then cp "$log" "$KEEL_SUITE_LOGS/"; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "redis_suite: keel server died during $unit"
    tail -20 "$work/server.log"
    exit 1
  fi
done
printf '%-18s %5d %5d %5d %8d\n' total "$total_ok" "$total_err" "$total_skip" "$total_ignored" >>"$work/summary"
echo "== Redis test suite against keel (ok: passed, err: failed, skip: skip list, ignored: tags)"
cat "$work/summary"
[ "$failed_units" -eq 0 ]

#!/usr/bin/env bash
# Echo between two real keel processes on 127.0.0.1: request/reply with 1 and 64 requests in
# flight, then the server is killed with kill -9 and the client must fail with a clear error
# (not hang). Bounded: every step has a timeout.
set -euo pipefail
keel=${1:?usage: echo_test.sh PATH_TO_KEEL}
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$keel" echo serve --listen 127.0.0.1:0 >"$work/server.out" 2>&1 &
server_pid=$!
address=""
for _ in $(seq 1 100); do
  address=$(sed -n 's/^echo: listening on //p' "$work/server.out")
  [ -n "$address" ] && break
  sleep 0.05
done
[ -n "$address" ] || { echo "FAIL: server did not start"; cat "$work/server.out"; exit 1; }
echo "server $server_pid listening on $address"

timeout 60 "$keel" echo ping --connect "$address" --count 2000 --in-flight 1 --timeout 30
timeout 60 "$keel" echo ping --connect "$address" --count 20000 --in-flight 64 --size 512 --timeout 30

kill -9 "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
set +e
# The default --count (1000): the first failed connection ends the run, well before --timeout.
started=$(date +%s%N)
timeout 30 "$keel" echo ping --connect "$address" --timeout 10 >"$work/after.out" 2>&1
status=$?
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
set -e
cat "$work/after.out"
if [ $status -eq 0 ] || [ $status -eq 124 ]; then
  echo "FAIL: ping to a killed server should fail promptly (exit $status)"
  exit 1
fi
[ $elapsed_ms -lt 5000 ] || { echo "FAIL: ping to a killed server took $elapsed_ms ms"; exit 1; }
grep -q "connection_failed (1026)" "$work/after.out" || { echo "FAIL: no clear connection_failed error"; exit 1; }
echo "PASS"

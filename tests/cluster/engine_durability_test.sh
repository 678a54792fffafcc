#!/usr/bin/env bash
# Durability of a storage engine in a real process: `keel server --engine ENGINE` under a write
# load through `keel cli` (each `Committed (VERSION)` line acknowledging one key) is killed with
# kill -9 mid-load; after a restart on the same data directory every acknowledged key must be
# there. Then marked values are made durable in the engine, the engine's data files are corrupted
# where they hold them, and the restarted server must stop with a clear checksum error instead
# of serving wrong data; before that, a restart with another --engine is refused up front. The
# engine is the second argument (ssd, rocksdb, ...).
set -euo pipefail
keel=${1:?usage: engine_durability_test.sh PATH_TO_KEEL ENGINE}
engine=${2:?usage: engine_durability_test.sh PATH_TO_KEEL ENGINE}
# shellcheck source=cli_lib.sh
source "$(dirname "$0")/cli_lib.sh"

marker="corrupt-me-value"
server_args=(--engine "$engine")

start_on_free_port "$work/server1.out"
first_pid=$server_pid
echo "server $first_pid on 127.0.0.1:$port, engine $engine"
wait_ready

echo "== writes acknowledged one by one, kill -9 mid-load"
kill_during_writes "$first_pid"

echo "== restart: every acknowledged key is there"
restart_on_port "$work/server2.out"
second_pid=$server_pid
expect_acked_keys

echo "== marked values made durable in the engine"
commands="writemode on"
for i in $(seq 1 50); do commands+="; set marked$i $marker$i"; done
run_cli "$commands"
[ "$status" = 0 ] || fail "writing the marked values exited $status"
[ "$(grep -cE '^Committed \([0-9]+\)$' <<<"$out")" = 50 ] || fail "not every marked value was committed"
# The storage servers move writes into the engine once newer versions push them out of the 5 s
# MVCC window: keep committing until the marked values are in the engine's files.
engine_files=()
for i in $(seq 1 60); do
  mapfile -t engine_files < <(grep -laF "$marker" -r "$data"/storage-* 2>/dev/null || true)
  [ ${#engine_files[@]} -gt 0 ] && break
  run_cli "writemode on; set filler$i x"
  sleep 0.5
done
[ ${#engine_files[@]} -gt 0 ] || fail "the marked values never reached the engine's files"
sleep 1  # a commit in progress lands before the kill
run_cli "status"
echo "$out" | sed -n '/^Storage engines:/,$p'
grep -qE "^  [0-9]+ +$engine " <<<"$(sed -n '/^Storage engines:/,$p' <<<"$out")" || fail "status shows no $engine engine metrics"
kill_server "$second_pid"

echo "== another --engine on this data directory is refused before the server says where to connect"
other_engine=memory
[ "$engine" != memory ] || other_engine=rocksdb
mismatch_status=0
timeout 30 "$keel" server --listen "127.0.0.1:$port" --data "$data" --cluster-file "$cluster_file" \
  --engine "$other_engine" >"$work/mismatch.out" 2>&1 || mismatch_status=$?
cat "$work/mismatch.out"
[ $mismatch_status = 1 ] || fail "--engine $other_engine over $engine data exited $mismatch_status, expected 1"
grep -qF "engine_mismatch (2144): the data directory $data holds $engine data" "$work/mismatch.out" ||
  fail "the refusal does not give its error and the engine of the data"
grep -qF -- "start with --engine $engine" "$work/mismatch.out" || fail "the refusal does not say which --engine to use"
if grep -qF "listening on" "$work/mismatch.out"; then fail "the refused server said it was listening"; fi

echo "== corrupt the engine's data files: the server refuses with a clear error"
flipped=0
for file in "${engine_files[@]}"; do
  while read -r offset; do
    printf 'X' | dd of="$file" bs=1 seek=$((offset + ${#marker} - 3)) conv=notrunc status=none
    flipped=$((flipped + 1))
  done < <(grep -aboF "$marker" "$file" | cut -d: -f1)
done
echo "flipped $flipped bytes in ${#engine_files[@]} file(s): ${engine_files[*]}"
[ $flipped -gt 0 ] || fail "nothing corrupted"
start_on "$port" "$work/server3.out" || true  # refused, as checked below
third_pid=$server_pid
refused=0
for _ in $(seq 1 300); do
  if ! kill -0 "$third_pid" 2>/dev/null; then
    refused=1
    break
  fi
  sleep 0.1
done
if [ $refused = 0 ]; then
  # Still up: it must not serve the corrupt values.
  run_cli "getrange marked markee 100"
  grep -qF "$marker" <<<"$out" && grep -q "is \`$marker" <<<"$out" && fail "corrupt values were served"
  kill_server "$third_pid"
  fail "the server kept running on corrupt data without a checksum error"
fi
kill_server "$third_pid"
cat "$work/server3.out"
grep -qF "checksum_failed (1532)" "$work/server3.out" || fail "no checksum_failed error from the server"
echo "PASS"

#!/usr/bin/env bash
# Durability of a storage engine in a real process: `keel server --engine ENGINE` under a write
# load through `keel cli` (each `Committed (VERSION)` line acknowledging one key) is killed with
# kill -9 mid-load; after a restart on the same data directory every acknowledged key must be
# there. Then marked values are made durable in the engine, the engine's data files are corrupted
# where they hold them, and the restarted server must stop with a clear checksum error instead
# of serving wrong data. The engine is the second argument (ssd, rocksdb, ...).
set -euo pipefail
keel=${1:?usage: engine_durability_test.sh PATH_TO_KEEL ENGINE}
engine=${2:?usage: engine_durability_test.sh PATH_TO_KEEL ENGINE}
# shellcheck source=cli_lib.sh
source "$(dirname "$0")/cli_lib.sh"

batch_keys=100
batches_max=200
acked_before_kill=300  # the kill comes after at least this many acknowledgements
data="$work/data"
cluster_file="$work/keel.cluster"
marker="corrupt-me-value"

start_on() {  # start_on PORT LOG: the server of this test on PORT
  start_server "$2" --listen "127.0.0.1:$1" --data "$data" --cluster-file "$cluster_file" --engine "$engine"
}

port=""
for _ in 1 2 3 4 5; do
  port=$(free_port)
  set +e
  start_on "$port" "$work/server1.out"
  started=$?
  set -e
  [ "$started" = 0 ] && break
  [ "$started" = 2 ] || fail "the server did not start"
  rm -rf "$data" "$cluster_file"
done
[ "$started" = 0 ] || fail "no free port after 5 attempts"
first_pid=$server_pid
echo "server $first_pid on 127.0.0.1:$port, engine $engine"
wait_ready

echo "== writes acknowledged one by one, kill -9 mid-load"
writer() {  # batches of sets; appends each acknowledged key to $work/acked; stops at the first failure
  local batch i commands output acked
  for batch in $(seq 0 $((batches_max - 1))); do
    commands="writemode on"
    for i in $(seq $((batch * batch_keys)) $((batch * batch_keys + batch_keys - 1))); do
      commands+="; set key$i value$i"
    done
    set +e
    output=$(timeout 60 "$keel" cli -C "$cluster_file" --timeout 3 --exec "$commands" 2>&1)
    local batch_status=$?
    set -e
    acked=$(grep -cE '^Committed \([0-9]+\)$' <<<"$output" || true)
    for i in $(seq $((batch * batch_keys)) $((batch * batch_keys + acked - 1))); do echo "key$i value$i"; done >>"$work/acked"
    if [ $batch_status != 0 ]; then
      echo "$output" | grep -v '^Committed' >"$work/writer_error"
      return 0
    fi
  done
  echo "the writer finished every batch" >"$work/writer_error"
}
: >"$work/acked"
writer &
writer_pid=$!
for _ in $(seq 1 600); do
  [ "$(wc -l <"$work/acked")" -ge $acked_before_kill ] && break
  kill -0 "$writer_pid" 2>/dev/null || break
  sleep 0.05
done
sleep "0.0$((RANDOM % 10))"
kill_server "$first_pid"
echo "killed the server after $(wc -l <"$work/acked") acknowledgements"
wait "$writer_pid"
acked=$(wc -l <"$work/acked")
echo "writer stopped: $(cat "$work/writer_error")"
[ "$acked" -ge $acked_before_kill ] || fail "only $acked keys acknowledged before the kill"
grep -qF "the writer finished" "$work/writer_error" && fail "the kill did not land mid-load"

echo "== restart: every acknowledged key is there"
set +e
start_on "$port" "$work/server2.out"
started=$?
set -e
[ "$started" = 0 ] || fail "the restarted server did not start on 127.0.0.1:$port"
second_pid=$server_pid
wait_ready
run_cli "getrange key kez 10000"
[ "$status" = 0 ] || fail "getrange after the restart exited $status"
missing=0
while read -r key value; do
  if ! grep -qxF "\`$key' is \`$value'" <<<"$out"; then
    echo "missing acknowledged key: $key"
    missing=$((missing + 1))
  fi
done <"$work/acked"
[ $missing = 0 ] || fail "$missing of $acked acknowledged keys lost"
echo "all $acked acknowledged keys present"

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
set +e
start_on "$port" "$work/server3.out"
set -e
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

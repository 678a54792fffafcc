#!/usr/bin/env bash
# Durability across kill -9: a writer sets keys through `keel cli` (batches of --exec, each
# `Committed (VERSION)` line acknowledging one key) while the server is killed with kill -9
# mid-stream; after a restart on the same data directory every acknowledged key must be there
# with its value. Also: a second server on a data directory in use is refused with the lock
# message, an unreachable cluster gives a clear error within the cli's timeout, and a restart
# whose --shards differs from the shard map stored in the data is refused.
set -euo pipefail
keel=${1:?usage: restart_test.sh PATH_TO_KEEL}
# shellcheck source=cli_lib.sh
source "$(dirname "$0")/cli_lib.sh"

batch_keys=100
batches_max=200
acked_before_kill=300  # the kill comes after at least this many acknowledgements
data="$work/data"
cluster_file="$work/keel.cluster"

start_on() {  # start_on PORT LOG: the server of this test on PORT
  start_server "$2" --listen "127.0.0.1:$1" --data "$data" --cluster-file "$cluster_file"
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
echo "server $first_pid on 127.0.0.1:$port"
wait_ready
run_cli "status"
generation_before=$(sed -n 's/^  Generation *- //p' <<<"$out")

echo "== a second server on the same data directory is refused"
other_port=$(free_port)
set +e
timeout 30 "$keel" server --listen "127.0.0.1:$other_port" --data "$data" --cluster-file "$work/other.cluster" \
  >"$work/second.out" 2>&1
second_status=$?
set -e
cat "$work/second.out"
[ $second_status = 1 ] || fail "the second server exited $second_status, expected 1"
grep -qF "is in use by another keel server" "$work/second.out" || fail "no lock message from the second server"
kill -0 "$first_pid" || fail "the first server died"

echo "== writes acknowledged one by one, kill -9 mid-stream"
# writer: batches of sets; appends each acknowledged key to $work/acked; stops at the first failure.
writer() {
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
grep -qF "the writer finished" "$work/writer_error" && fail "the kill did not land mid-stream"
grep -qE "^ERROR: [a-z_]+ \([0-9]+\)" "$work/writer_error" || fail "the writer did not fail with a clear error"

echo "== restart on the same data directory: every acknowledged key is there"
set +e
start_on "$port" "$work/server2.out"
started=$?
set -e
[ "$started" = 0 ] || fail "the restarted server did not start on 127.0.0.1:$port"
second_pid=$server_pid
wait_ready
run_cli "getrange key kez 10000"
[ "$status" = 0 ] || fail "getrange after the restart exited $status"
present=$(grep -c "^\`key" <<<"$out" || true)
missing=0
while read -r key value; do
  if ! grep -qxF "\`$key' is \`$value'" <<<"$out"; then
    echo "missing acknowledged key: $key"
    missing=$((missing + 1))
  fi
done <"$work/acked"
[ $missing = 0 ] || fail "$missing of $acked acknowledged keys lost"
echo "all $acked acknowledged keys present ($present keys in all)"
run_cli "status"
generation_after=$(sed -n 's/^  Generation *- //p' <<<"$out")
echo "generation $generation_before before the kill, $generation_after after the restart"
[ "$generation_after" -gt "$generation_before" ] || fail "the generation did not advance"
expect "writemode on; set after restart; get after" 0 "\`after' is \`restart'"

echo "== an unreachable cluster fails clearly within the timeout"
kill_server "$second_pid"
started_ns=$(date +%s%N)
cli_timeout=2
run_cli "get key0"
elapsed_ms=$((($(date +%s%N) - started_ns) / 1000000))
echo "$out (after $elapsed_ms ms)"
[ "$status" = 1 ] || fail "a read from a dead cluster exited $status"
grep -qF "ERROR: timed_out (1004)" <<<"$out" || fail "no timed_out error"
grep -qF "is the cluster at 127.0.0.1:$port running?" <<<"$out" || fail "the error does not name the coordinator"
[ $elapsed_ms -lt 10000 ] || fail "the cli took $elapsed_ms ms with --timeout 2"

echo "== a restart with a different shard layout is refused, naming the cause"
set +e
timeout 30 "$keel" server --listen "127.0.0.1:$port" --data "$data" --cluster-file "$cluster_file" \
  --shards 3 >"$work/reshard.out" 2>&1
reshard_status=$?
set -e
cat "$work/reshard.out"
[ $reshard_status = 1 ] || fail "the server with a different --shards exited $reshard_status, expected 1"
grep -qF "shard_map_mismatch (2140)" "$work/reshard.out" || fail "no shard_map_mismatch error"

echo "PASS"

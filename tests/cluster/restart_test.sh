#!/usr/bin/env bash
# Durability across kill -9: a writer sets keys through `keel cli` (batches of --exec, each
# `Committed (VERSION)` line acknowledging one key) while the server is killed with kill -9
# mid-stream; after a restart on the same data directory every acknowledged key must be there
# with its value. Also: a --data that is a file, an empty or system --resp-prefix, a bad --memory
# and a --resp equal to --listen are refused before anything starts (leaving no data directory
# behind, as does a start refused for its port), a start on port 0 names the port it picked, a
# second server on a data directory in use is refused with the lock message, an unreachable
# cluster gives a clear error within the cli's timeout (naming what the probe of its address
# found), a restart on another --listen is refused (the data belongs to the cluster at the first
# address; the keys are still there after it), a restart whose --shards differs from the shard
# map stored in the cluster keeps the stored one (with a note saying so), removed logs leave no
# directories behind, a clean stop (SIGTERM) makes every committed write durable in the storage
# engines before it exits, and a restart with fewer --storage-servers than the data holds is refused.
set -euo pipefail
keel=${1:?usage: restart_test.sh PATH_TO_KEEL}
# shellcheck source=cli_lib.sh
source "$(dirname "$0")/cli_lib.sh"

# expect_refused NAME MESSAGE ARGS...: `keel server ARGS...` on a free port (on $refused_listen
# when set) exits 1 printing MESSAGE (its output in $work/NAME.out).
expect_refused() {
  local name=$1 message=$2 refused_status=0 listen=${refused_listen:-127.0.0.1:$(free_port)}
  shift 2
  timeout 30 "$keel" server --listen "$listen" --cluster-file "$work/$name.cluster" "$@" \
    >"$work/$name.out" 2>&1 || refused_status=$?
  cat "$work/$name.out"
  [ $refused_status = 1 ] || fail "the $name server exited $refused_status, expected 1"
  grep -qF -- "$message" "$work/$name.out" || fail "the $name server did not print: $message"
}

echo "== bad arguments are refused before anything starts"
touch "$work/a-file"
expect_refused bad "keel server: io_error (1510): --data $work/a-file: cannot create the data directory: Not a directory" --data "$work/a-file"
expect_refused bad "--resp-prefix must be a non-empty prefix" --data "$work/bad-data" --resp-prefix ""
expect_refused bad "--resp-prefix must be a non-empty prefix" --data "$work/bad-data" --resp-prefix "$(printf '\xff')r"
expect_refused bad "keel server: invalid_option_value (2006): --memory 5: expected a size of at least 64MiB" --data "$work/bad-data" --memory 5
clash=127.0.0.1:$(free_port)
refused_listen=$clash expect_refused bad "--resp $clash is also the --listen address" --data "$work/bad-data" --resp "$clash"
[ ! -e "$work/bad-data" ] || fail "a refused start left its data directory behind"

echo "== port 0 picks a port, and the server says which --listen restarts the cluster"
start_server "$work/port0.out" --listen 127.0.0.1:0 --data "$work/port0-data" --cluster-file "$work/port0.cluster" \
  --resp off || fail "a server on port 0 did not start"
picked=$(sed -n 's/^keel server: listening on \(127\.0\.0\.1:[0-9]*\) .*/\1/p' "$work/port0.out")
grep -qF "note: --listen 127.0.0.1:0 picked port ${picked#*:}; the cluster of $work/port0-data lives at $picked now: restart it with --listen $picked" \
  "$work/port0.out" || fail "no note naming the port picked"
kill_server "$server_pid"

start_on_free_port "$work/server1.out"
first_pid=$server_pid
echo "server $first_pid on 127.0.0.1:$port"
wait_ready
run_cli "status"
generation_before=$(sed -n 's/^  Generation *- //p' <<<"$out")

echo "== a second server on the same data directory is refused"
expect_refused second "keel server: data_directory_locked (2152): the data directory $data is in use by another keel server" --data "$data"
kill -0 "$first_pid" || fail "the first server died"
echo "== a server on a port in use is refused, and leaves no new data directory behind"
refused_listen=127.0.0.1:$port expect_refused taken "keel server: bind_failed (1512): cannot listen on 127.0.0.1:$port" --data "$work/taken-data" --resp off
[ ! -e "$work/taken-data" ] || fail "a start refused for its port left its data directory behind"

echo "== writes acknowledged one by one, kill -9 mid-stream"
kill_during_writes "$first_pid"
grep -qE "^ERROR: [a-z_]+ \([0-9]+\)" "$work/writer_error" || fail "the writer did not fail with a clear error"

echo "== restart on the same data directory: every acknowledged key is there"
restart_on_port "$work/server2.out"
second_pid=$server_pid
expect_acked_keys
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
grep -qF "nothing accepts connections at 127.0.0.1:$port" <<<"$out" || fail "the error does not name the coordinator"
[ $elapsed_ms -lt 10000 ] || fail "the cli took $elapsed_ms ms with --timeout 2"

echo "== a restart listening elsewhere is refused: the data belongs to the cluster at 127.0.0.1:$port"
expect_refused moved "keel server: data_directory_mismatch (2153): the data directory $data belongs to the cluster whose coordinators are 127.0.0.1:$port" --data "$data"
grep -qF -- "--listen 127.0.0.1:$port" "$work/moved.out" || fail "the message does not say which --listen to use"

echo "== a restart with a different --shards keeps the shard map stored in the cluster"
server_args=(--shards 3)
restart_on_port "$work/server3.out"
grep -qF "note: --shards shapes only a new cluster" "$work/server3.out" || fail "no note that --shards does not apply"
expect "get after" 0 "\`after' is \`restart'"
expect_acked_keys
grep -qF '"RecoveryKeepsStoredShardMap"' "$data/trace.jsonl" || fail "no RecoveryKeepsStoredShardMap trace event"

echo "== the logs of earlier generations leave no directories behind"
empty_logs() { find "$data" -maxdepth 1 -name 'tlog-*' -type d -empty | wc -l; }
for _ in $(seq 1 100); do
  [ "$(empty_logs)" = 0 ] && break
  sleep 0.1
done
ls -d "$data"/tlog-* || true
[ "$(empty_logs)" = 0 ] || fail "$(empty_logs) empty tlog directories after three generations"

echo "== a clean stop (SIGTERM) makes the committed writes durable in the storage engines first"
run_cli "writemode on; set before-stop stopped"
[ $status = 0 ] || fail "the write before the stop failed: $out"
stop_version=$(sed -n 's/^Committed (\([0-9]*\)).*/\1/p' <<<"$out")
[ -n "$stop_version" ] || fail "no commit version in: $out"
sleep 1.5  # the proxy's idle commits make the write known committed to the storage servers
kill -TERM "$server_pid"
for _ in $(seq 1 300); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$server_pid" 2>/dev/null && fail "the server did not stop within 30 s of SIGTERM"
wait "$server_pid" || fail "the server stopped by SIGTERM exited $?"
forget_pid "$server_pid"
cat "$work/server3.out"
grep -qF "keel server: recent writes durable in" "$work/server3.out" || fail "the stop did not make the recent writes durable"
durable_versions() { grep -F "\"$1\"" "$data/trace.jsonl" | tail -n 2 | sed -n 's/.*"DurableVersion":"\([0-9]*\)".*/\1/p'; }
[ "$(durable_versions StorageServerDurableForStop | wc -l)" = 2 ] || fail "not every storage server reported its stop"
for version in $(durable_versions StorageServerDurableForStop); do
  [ "$version" -ge "$stop_version" ] || fail "a storage server stopped durable at $version, below the commit at $stop_version"
done
restart_on_port "$work/server4.out"
expect "get before-stop" 0 "\`before-stop' is \`stopped'"
for version in $(durable_versions StorageServerStarted); do
  [ "$version" -ge "$stop_version" ] || fail "a storage server restarted durable at $version, below the commit at $stop_version"
done

echo "== a restart with fewer --storage-servers than the data holds is refused"
kill_server "$server_pid"
expect_refused fewer "holds 2 storage servers, more than --storage-servers 1" --data "$data" --storage-servers 1

echo "PASS"

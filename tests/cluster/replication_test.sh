#!/usr/bin/env bash
# Storage replication with real processes on 127.0.0.1: A hosts the transaction roles (and is
# the coordinator), B and C each host a storage server, `replication = "double"` puts every
# shard on both. With C killed by kill -9, reads and writes go on (every read fails over to
# B) and status names the degraded shards; C restarted on its data catches up from the logs,
# status is healthy again, and with B killed instead every key, including those written while
# C was down, is read from C. A configuration asking for more replicas than processes with
# storage is refused with a clear message. The log spills every durable version
# (tlog_spill_bytes=0), so C's catch-up reads what it missed back from the log's files.
set -euo pipefail
keel=${1:?usage: replication_test.sh PATH_TO_KEEL}
# shellcheck source=cli_lib.sh
source "$(dirname "$0")/cli_lib.sh"

write_config() {  # write_config REPLICATION PORT_A PORT_B PORT_C
  cat >"$work/cluster.toml" <<EOF2
replication = "$1"
[[process]]
address = "127.0.0.1:$2"
roles = ["sequencer", "proxy", "resolver", "tlog"]
[[process]]
address = "127.0.0.1:$3"
roles = ["storage"]
[[process]]
address = "127.0.0.1:$4"
roles = ["storage"]
[shards]
count = 4
EOF2
}

# start_process NAME: process NAME (a, b or c) on its port and data directory; status as
# start_server's.
start_process() {
  local port_var="port_$1" log
  starts=$((starts + 1))
  log="$work/$1-$starts.out"
  : >"$log"  # before the server opens it, so start_server's first look finds it
  start_server "$log" --config "$work/cluster.toml" --listen "127.0.0.1:${!port_var}" \
    --data "$work/data-$1" --cluster-file "$cluster_file" --knob tlog_spill_bytes=0
}

starts=0
start_cluster() {
  port_a=$(free_port)
  port_b=$(free_port)
  port_c=$(free_port)
  [ "$port_a" != "$port_b" ] && [ "$port_b" != "$port_c" ] && [ "$port_a" != "$port_c" ] || return 2
  write_config double "$port_a" "$port_b" "$port_c"
  start_processes start_process a b c
}

echo "== more replicas than processes with storage are refused"
refused_port=$(free_port)
write_config triple "$refused_port" "$((refused_port + 1))" "$((refused_port + 2))"
set +e
timeout 30 "$keel" server --config "$work/cluster.toml" --listen "127.0.0.1:$refused_port" --data "$work/refused" \
  --cluster-file "$work/refused.cluster" >"$work/refused.out" 2>&1
refused_status=$?
set -e
cat "$work/refused.out"
[ $refused_status != 0 ] || fail "a triple configuration with two storage processes started"
grep -qF 'replication "triple" needs storage servers in 3 zones' "$work/refused.out" ||
  fail "no clear message for too few zones"

start_until_ports_free start_cluster
echo "A (transaction) $pid_a on $port_a; B (storage) $pid_b on $port_b; C (storage) $pid_c on $port_c"
wait_ready

healthy="  Replication            - double (2 of 2 replicas reachable for every shard)"

# expect_all_keys SUFFIX: every key of `keys` holds its name followed by SUFFIX, read in fresh
# cli processes (each picks a random member first).
expect_all_keys() {
  local round key
  for round in 1 2 3 4 5; do
    run_cli "get alpha; get beta; get mid; get zulu; get \\x01low; get \\xf0high"
    [ "$status" = 0 ] || fail "reads (round $round) exited $status"
    for key in alpha beta mid zulu; do
      grep -qxF "\`$key' is \`$key$1'" <<<"$out" || fail "round $round: $key is not $key$1"
    done
    grep -qxF "\`\\x01low' is \`low$1'" <<<"$out" || fail "round $round: \\x01low is not low$1"
    grep -qxF "\`\\xf0high' is \`high$1'" <<<"$out" || fail "round $round: \\xf0high is not high$1"
  done
}

echo "== writes spread over every shard; status shows both replicas"
expect "writemode on; set alpha alpha1; set beta beta1; set mid mid1; set zulu zulu1; set \\x01low low1; set \\xf0high high1" 0
expect_all_keys 1
expect "status" 0 "$healthy"

echo "== C killed: reads fail over to B, writes go on, status names the degraded shards"
kill_server "$pid_c"
cli_timeout=5
started_ns=$(date +%s%N)
expect_all_keys 1
echo "five rounds of reads with C dead took $((($(date +%s%N) - started_ns) / 1000000)) ms"
expect "writemode on; set alpha alpha2; set beta beta2; set mid mid2; set zulu zulu2; set \\x01low low2; set \\xf0high high2" 0
expect_all_keys 2
run_cli "status"
[ "$status" = 0 ] || fail "status with C dead exited $status"
grep "^  Replication" <<<"$out"
grep -qE "^  Replication            - double - DEGRADED: 5 shards with fewer than 2 replicas reachable \(fewest: 1\): \[\.\.[^)]*\) 1 of 2, " <<<"$out" ||
  fail "status does not show the five degraded shards"
grep -qE "^  [0-9]+ +127\.0\.0\.1:$port_c +unreachable$" <<<"$out" || fail "status does not show C unreachable"

echo "== C restarted: it catches up and status is healthy again"
start_process c || fail "C did not restart"
pid_c=$server_pid
for _ in $(seq 1 60); do
  run_cli "status"
  grep -qxF "$healthy" <<<"$out" && break
  sleep 0.5
done
grep -qxF "$healthy" <<<"$out" || fail "status did not become healthy after C restarted"

echo "== B killed: every key, also those written while C was down, is read from C"
kill_server "$pid_b"
expect_all_keys 2
expect "writemode on; set alpha alpha3; get alpha" 0 "\`alpha' is \`alpha3'"

echo "PASS"

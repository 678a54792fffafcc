#!/usr/bin/env bash
# A static cluster of three real processes on 127.0.0.1 (src/cmd/static_config.h), each a
# coordinator: A and B may host transaction roles (A is listed with the sequencer, proxy and
# resolver roles, B with the log: the counts of a generation), C hosts two storage servers
# (class storage). `keel cli` round trips against it through the three-coordinator cluster
# file, status showing the controller, coordinators, workers and every transaction role on A
# or B, and a clear error within the timeout once the storage process is killed with kill -9.
set -euo pipefail
keel=${1:?usage: static_cluster_test.sh PATH_TO_KEEL}
# shellcheck source=cli_lib.sh
source "$(dirname "$0")/cli_lib.sh"

write_config() {  # write_config PORT_A PORT_B PORT_C
  cat >"$work/cluster.toml" <<EOF
coordinators = ["127.0.0.1:$1", "127.0.0.1:$2", "127.0.0.1:$3"]
[[process]]
address = "127.0.0.1:$1"
roles = ["sequencer", "proxy", "resolver"]
[[process]]
address = "127.0.0.1:$2"
roles = ["tlog"]
[[process]]
address = "127.0.0.1:$3"
roles = ["storage"]
storage_servers = 2
[shards]
count = 4
EOF
}

# start_process NAME: process NAME (a, b or c) on its port and data directory.
start_process() {
  local port_var="port_$1"
  start_server "$work/$1.out" --config "$work/cluster.toml" --listen "127.0.0.1:${!port_var}" \
    --data "$work/data-$1" --cluster-file "$cluster_file"
}

# start_cluster: the three processes on fresh ports; status as start_server's (2: retry).
start_cluster() {
  port_a=$(free_port)
  port_b=$(free_port)
  port_c=$(free_port)
  [ "$port_a" != "$port_b" ] && [ "$port_b" != "$port_c" ] && [ "$port_a" != "$port_c" ] || return 2
  write_config "$port_a" "$port_b" "$port_c"
  start_processes start_process a b c
}

start_until_ports_free start_cluster
echo "A (transaction) $pid_a on $port_a; B (transaction) $pid_b on $port_b; C (storage) $pid_c on $port_c"
[ -f "$cluster_file" ] || fail "process A did not write the cluster file"
grep -qE "^keel:[0-9a-f]+@127\.0\.0\.1:$port_a,127\.0\.0\.1:$port_b,127\.0\.0\.1:$port_c$" "$cluster_file" ||
  fail "the cluster file does not name the three coordinators: $(cat "$cluster_file")"
wait_ready

echo "== round trips"
expect "writemode on; set alpha 1; set beta 2; set \xf0high 3; set \x01low 4" 0
[ "$(grep -cE '^Committed \([0-9]+\)$' <<<"$out")" = 4 ] || fail "expected four Committed (VERSION) lines"
expect "get alpha; get beta; get gamma" 0 "\`alpha' is \`1'" "\`beta' is \`2'" "\`gamma': not found"
# The keys lie in different shards, served by both storage servers of C.
run_cli "getrange \"\""
expected=$'Range limited to 25 keys\n`\\x01low\' is `4\'\n`alpha\' is `1\'\n`beta\' is `2\'\n`\\xf0high\' is `3\''
[ "$out" = "$expected" ] || fail "getrange across shards"
expect "getkey >alpha; getkey <=\xf0high -1" 0 "Key: \`beta'"
expect "writemode on; begin; set gamma 3; clear alpha; commit; get gamma; get alpha" 0 \
  "Transaction started" "\`gamma' is \`3'" "\`alpha': not found"
expect "writemode on; clearrange \"\" \xff; getrange \"\"" 0 "Range limited to 25 keys"
[ "$(wc -l <<<"$out")" = 2 ] || fail "clearrange of everything left keys"

echo "== status"
expect "status" 0 "  Coordinators           - 127.0.0.1:$port_a, 127.0.0.1:$port_b, 127.0.0.1:$port_c" \
  "Workers (3, 0 failed):"
grep -qE "^  Cluster controller     - 127\.0\.0\.1:($port_a|$port_b)$" <<<"$out" || fail "the controller is not on A or B"
grep -qE "^  Recovery state         - accepting_commits" <<<"$out" || fail "status does not show accepting_commits"
# The controller recruits the transaction roles onto A or B, never onto the storage process C.
for role in sequencer proxy resolver tlog; do
  grep -qE "^  $role +127\.0\.0\.1:($port_a|$port_b)( \(x[0-9]+\))?$" <<<"$out" || fail "no $role on A or B"
  if grep -qE "^  $role +127\.0\.0\.1:$port_c" <<<"$out"; then fail "a $role on the storage process C"; fi
done
grep -qE "^  127\.0\.0\.1:$port_a +unset$" <<<"$out" || fail "status does not show worker A (unset)"
grep -qE "^  127\.0\.0\.1:$port_b +unset$" <<<"$out" || fail "status does not show worker B (unset)"
grep -qE "^  127\.0\.0\.1:$port_c +storage$" <<<"$out" || fail "status does not show worker C (storage)"
[ "$(grep -cE "^  [0-9]+ +127\.0\.0\.1:$port_c .* rocksdb$" <<<"$out")" = 2 ] || fail "status does not show two storage servers on C"

echo "== the storage process killed: a clear error within the timeout"
kill_server "$pid_c"
cli_timeout=2
started_ns=$(date +%s%N)
run_cli "get beta"
elapsed_ms=$((($(date +%s%N) - started_ns) / 1000000))
echo "$out (after $elapsed_ms ms)"
[ "$status" = 1 ] || fail "a read with the storage process dead exited $status"
grep -qF "ERROR: timed_out (1004)" <<<"$out" || fail "no timed_out error"
[ $elapsed_ms -lt 10000 ] || fail "the cli took $elapsed_ms ms with --timeout 2"

echo "PASS"

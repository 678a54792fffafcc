#!/usr/bin/env bash
# Data distribution with real processes on 127.0.0.1: A hosts the transaction roles (and is
# the coordinator), B, C and D one storage server each; the cluster starts with replication
# single. `configure double` online moves every shard to two servers (status shows the moves
# finish and the replication healthy); B killed by kill -9, every key is still read. B back,
# `exclude C` moves C's shards to B and D (C ends with no shard); C killed, every key is still
# read. `configure single` shrinks the teams again. Every wait is bounded.
set -euo pipefail
keel=${1:?usage: distribution_test.sh PATH_TO_KEEL}
# shellcheck source=cli_lib.sh
source "$(dirname "$0")/cli_lib.sh"

write_config() {  # write_config PORT_A PORT_B PORT_C PORT_D
  cat >"$work/cluster.toml" <<EOF2
[[process]]
address = "127.0.0.1:$1"
roles = ["sequencer", "proxy", "resolver", "tlog"]
[[process]]
address = "127.0.0.1:$2"
roles = ["storage"]
[[process]]
address = "127.0.0.1:$3"
roles = ["storage"]
[[process]]
address = "127.0.0.1:$4"
roles = ["storage"]
[shards]
count = 6
EOF2
}

# start_process NAME: process NAME (a to d) on its port and data directory.
start_process() {
  local port_var="port_$1" log
  starts=$((starts + 1))
  log="$work/$1-$starts.out"
  : >"$log"
  start_server "$log" --config "$work/cluster.toml" --listen "127.0.0.1:${!port_var}" \
    --data "$work/data-$1" --cluster-file "$cluster_file"
}

starts=0
start_cluster() {
  port_a=$(free_port)
  port_b=$(free_port)
  port_c=$(free_port)
  port_d=$(free_port)
  [ "$(printf '%s\n' "$port_a" "$port_b" "$port_c" "$port_d" | sort -u | wc -l)" = 4 ] || return 2
  write_config "$port_a" "$port_b" "$port_c" "$port_d"
  start_processes start_process a b c d
}

start_until_ports_free start_cluster
echo "A (transaction) $pid_a on $port_a; B $pid_b on $port_b, C $pid_c on $port_c, D $pid_d on $port_d (storage)"
wait_ready

# 60 keys over every shard: k<byte n*3><n> = v<n>. key_in N: the key as the cli takes it;
# key_shown N: as it prints it (printable bytes as themselves).
key_in() { printf 'k\\x%02x%d' $(($1 * 3)) "$1"; }
key_shown() {
  local byte=$(($1 * 3))
  if [ $byte -ge 32 ] && [ $byte -lt 127 ] && [ $byte != 92 ]; then
    printf "k\\$(printf '%03o' $byte)%d" "$1"
  else
    printf 'k\\x%02x%d' $byte "$1"
  fi
}
writes="writemode on"
reads=""
for n in $(seq 10 69); do
  writes+="; set $(key_in "$n") v$n"
  reads+="get $(key_in "$n"); "
done

# expect_all_keys: every key holds its value, read in three fresh cli processes.
expect_all_keys() {
  local round n
  for round in 1 2 3; do
    run_cli "$reads"
    [ "$status" = 0 ] || fail "reads (round $round) exited $status: $(tail -3 <<<"$out")"
    for n in $(seq 10 69); do
      grep -qxF "\`$(key_shown "$n")' is \`v$n'" <<<"$out" || fail "round $round: $(key_in "$n") is not v$n"
    done
  done
}

# wait_status PREDICATE: runs `status` until PREDICATE (a shell function) succeeds, at most 60 s.
wait_status() {
  local started
  started=$(date +%s)
  for _ in $(seq 1 120); do
    run_cli "status"
    if [ "$status" = 0 ] && "$1"; then
      echo "$1 after $(($(date +%s) - started)) s"
      return 0
    fi
    sleep 0.5
  done
  grep -E "^  (Replication|Data distribution)" <<<"$out" || true
  fail "status never satisfied $1"
}
settled() { grep -qE "^  Data distribution      - 0 shards moving" <<<"$out"; }
double_healthy() {
  settled && grep -qxF "  Replication            - double (2 of 2 replicas reachable for every shard)" <<<"$out"
}
single_healthy() {
  settled && grep -qxF "  Replication            - single (1 of 1 replicas reachable for every shard)" <<<"$out"
}
# shards_on PORT: the shards column of the storage server on 127.0.0.1:PORT in the last status.
shards_on() { awk -v address="127.0.0.1:$1" '$2 == address && NF > 4 { print $(NF - 1) }' <<<"$out"; }
c_empty() { settled && [ "$(shards_on "$port_c")" = 0 ]; }

expect "$writes" 0
expect_all_keys
expect "status" 0 "  Replication            - single (1 of 1 replicas reachable for every shard)"

echo "== configure double: every shard moves to two servers"
expect "configure double" 0 "Replication changed to double: data distribution moves the shards (\`status' shows the moves)"
wait_status double_healthy
grep "^  Data distribution" <<<"$out"
expect_all_keys

echo "== B killed: every key is read from the other member of its team"
kill_server "$pid_b"
cli_timeout=5
expect_all_keys
cli_timeout=10
start_process b || fail "B did not restart"
pid_b=$server_pid
wait_status double_healthy

echo "== exclude C: its shards move to B and D"
expect "exclude 127.0.0.1:$port_c" 0
grep -qF "data distribution moves their shards to other servers" <<<"$out" || fail "exclude does not say the shards move"
wait_status c_empty
double_healthy || fail "replication not healthy once C is empty"
kill_server "$pid_c"
cli_timeout=5
expect_all_keys
cli_timeout=10

echo "== configure single: the teams shrink"
expect "configure single" 0 "Replication changed to single: data distribution moves the shards (\`status' shows the moves)"
wait_status single_healthy
expect_all_keys
run_cli "status json"
[ "$status" = 0 ] || fail "status json exited $status"
python3 - "$out" <<'PY' || fail "status json does not show the moves"
import json, sys
d = json.loads(sys.argv[1])["replication"]["data_distribution"]
print("data distribution:", d)
assert d["shards_moving"] == 0 and d["moves_finished"] > 0 and d["fetched_bytes"] > 0, d
PY

echo "PASS"

#!/usr/bin/env bash
# Administering a running cluster with real processes on 127.0.0.1: five `keel server`
# processes, A, B and C the first coordinators and the transaction processes, D and E storage.
#
# Coordinators (docs/coordination.md, "Changing the coordinators"): `keel cli coordinators C D E`
# moves the cluster and rewrites the cluster file; A and B are then killed with kill -9 (a
# majority of the old set) and the cluster goes on under the new set; a client holding a copy
# of the old cluster file is forwarded by C and its file rewritten; A restarted with its old
# --config finds the new set from its data directory. Bad requests get clear errors, and
# `coordinators auto` picks a set itself.
#
# Settings (docs/fault_tolerance.md, "Settings"): `configure logs=1 proxies=2` gives the next
# generation one log and two proxies; `exclude A` moves every transaction role to C; excluding
# C too (no live host left) and `configure triple` (three replicas on two storage processes)
# are refused with clear errors; `include all` lifts the exclusion; excluding an address no
# process registered from warns. (Replication changes that fit are tested by
# distribution_test.sh.)
set -euo pipefail
keel=${1:?usage: admin_test.sh PATH_TO_KEEL}
# shellcheck source=cli_lib.sh
source "$(dirname "$0")/cli_lib.sh"

names=(a b c d e)
declare -A port

write_config() {
  cat >"$work/cluster.toml" <<EOF2
coordinators = ["127.0.0.1:${port[a]}", "127.0.0.1:${port[b]}", "127.0.0.1:${port[c]}"]
[[process]]
address = "127.0.0.1:${port[a]}"
roles = ["proxy", "resolver", "tlog"]
[[process]]
address = "127.0.0.1:${port[b]}"
roles = ["proxy", "resolver", "tlog"]
[[process]]
address = "127.0.0.1:${port[c]}"
roles = ["proxy", "resolver", "tlog"]
[[process]]
address = "127.0.0.1:${port[d]}"
roles = ["storage"]
[[process]]
address = "127.0.0.1:${port[e]}"
roles = ["storage"]
[shards]
count = 4
EOF2
}

starts=0
start_process() {
  local log
  starts=$((starts + 1))
  log="$work/$1-$starts.out"
  : >"$log"
  start_server "$log" --config "$work/cluster.toml" --listen "127.0.0.1:${port[$1]}" \
    --data "$work/data-$1" --cluster-file "$cluster_file"
}

start_cluster() {
  local name
  for name in "${names[@]}"; do port[$name]=$(free_port); done
  [ "$(printf '%s\n' "${port[@]}" | sort -u | wc -l)" = 5 ] || return 2
  write_config
  start_processes start_process "${names[@]}"
}

start_until_ports_free start_cluster
addr() { echo "127.0.0.1:${port[$1]}"; }
echo "A $(addr a), B $(addr b), C $(addr c) (coordinators), D $(addr d), E $(addr e)"
wait_ready
expect "writemode on; set before move" 0

echo "== the first set"
expect "coordinators" 0 "Coordinators: $(addr a), $(addr b), $(addr c)"
first_file=$(cat "$cluster_file")
cp "$cluster_file" "$work/old.cluster"
echo "cluster file: $first_file"

echo "== bad requests are refused with clear errors"
expect "coordinators $(addr c) $(addr d)" 1; echo "$out"
grep -qF "name 1, 3 or 5 coordinators, got 2" <<<"$out" || fail "two coordinators: no clear error"
unused=$(free_port)
expect "coordinators 127.0.0.1:$unused" 1; echo "$out"
grep -qF "Invalid coordinators" <<<"$out" || fail "a set naming no process: no clear error"
expect "coordinators nonsense" 1 "ERROR: invalid_address (1534): \`nonsense' is not an address IP:PORT"
[ "$(cat "$cluster_file")" = "$first_file" ] || fail "a refused change rewrote the cluster file"

echo "== move to C, D, E"
started_ms=$(date +%s%3N)
expect "coordinators $(addr c) $(addr d) $(addr e)" 0 "Coordinators changed to $(addr c), $(addr d), $(addr e)"
new_file=$(cat "$cluster_file")
echo "cluster file: $new_file"
grep -qE "^keel:[A-Za-z0-9_-]+@$(addr c),$(addr d),$(addr e)$" <<<"$new_file" || fail "the cluster file does not name C, D, E"
[ "${new_file%@*}" != "${first_file%@*}" ] || fail "the new set kept the old cluster id"
wait_ready
echo "move to the first commit under the new set: $(($(date +%s%3N) - started_ms)) ms"
expect "writemode on; set after move; get before" 0 "\`before' is \`move'"
expect "coordinators" 0 "Coordinators: $(addr c), $(addr d), $(addr e)"

echo "== A and B (a majority of the old set) killed: the cluster goes on"
kill_server "${pid_a}"
kill_server "${pid_b}"
cli_timeout=20
expect "writemode on; set with_ab down; get before; get after" 0 "\`before' is \`move'" "\`after' is \`move'"
cli_timeout=10

echo "== a client with the old cluster file is forwarded by C, and its file rewritten"
out=$(timeout 120 "$keel" cli -C "$work/old.cluster" --timeout 20 --exec "get with_ab" 2>&1) ||
  fail "the old cluster file did not reach the cluster"
grep -qxF "\`with_ab' is \`down'" <<<"$out" || fail "the old cluster file's client read the wrong value"
[ "$(cat "$work/old.cluster")" = "$new_file" ] || fail "the old cluster file was not rewritten: $(cat "$work/old.cluster")"

echo "== A restarted with its old --config finds the new set"
start_process a || fail "A did not restart"
pid_a=$server_pid
grep -qF "coordinators $(addr c), $(addr d), $(addr e)" "$work/a-$starts.out" ||
  fail "restarted A does not use the new coordinators: $(grep coordinators "$work/a-$starts.out")"
for _ in $(seq 1 40); do
  run_cli "status"
  grep -qE "^  $(addr a) +[a-z]+$" <<<"$out" && break
  sleep 0.5
done
grep -qE "^  $(addr a) +[a-z]+$" <<<"$out" || fail "restarted A did not join the cluster"

# role_count ROLE: how many ROLE roles the last status output lists (lines `  ROLE  ADDR [(xN)]`).
role_count() {
  awk -v role="$1" '$1 == role { n += ($3 ~ /^\(x[0-9]+\)$/) ? substr($3, 3, length($3) - 3) : 1 } END { print n + 0 }' <<<"$out"
}

# wait_status PREDICATE: runs `status` until PREDICATE (a shell function) succeeds, at most 30 s.
wait_status() {
  for _ in $(seq 1 60); do
    run_cli "status"
    [ "$status" = 0 ] && "$1" && return 0
    sleep 0.5
  done
  fail "status never satisfied $1"
}

echo "== configure logs=1 proxies=2: the next generation has one log and two proxies"
expect "configure logs=1 proxies=2" 0 "Configuration changed: logs 1, proxies 2, resolvers as configured (the cluster recovers into a generation with them)"
one_log_two_proxies() { [ "$(role_count tlog)" = 1 ] && [ "$(role_count proxy)" = 2 ]; }
wait_status one_log_two_proxies
expect "configure logs=0" 1 "ERROR: configuration_invalid (2142): logs must be a number from 1 to 16, got \`0'"
expect "configure triple" 1 "Replication triple needs 3 zones with storage servers; the cluster has 2"
grep -qF "ERROR: replication_needs_zones (2145)" <<<"$out" || fail "configure triple: no clear error"
expect "configure rocksdb" 0 \
  "Configuration unchanged: logs 1, proxies 2, resolvers as configured, storage engine rocksdb, replication single"
echo "$out"
# Counts the cluster holds already are no change (it used to say the cluster recovers).
expect "configure logs=1 proxies=2 single" 0 \
  "Configuration unchanged: logs 1, proxies 2, resolvers as configured, storage engine rocksdb, replication single"
expect "configure single double" 1 "ERROR: configuration_invalid (2142): two replication modes, \`single' and \`double': name one"
expect "configure logs=1 logs=2" 1 "ERROR: configuration_invalid (2142): logs given twice, 1 and 2"
expect "configure new" 1 "ERROR: database_exists (2148): The database already exists (a cluster is created by \`keel server': replication in its --config, engine with --engine): leave out \`new' to change its configuration"
[ "$(wc -l <<<"$out")" = 1 ] || fail "configure new printed more than its error: $out"

echo "== exclude A: every transaction role moves to C"
expect "exclude $(addr a)" 0 "Excluded $(addr a): no transaction role is recruited there (a recovery moves those it hosted)"
roles_off_a() { ! grep -qE "^  (sequencer|proxy|resolver|tlog) +$(addr a)( |$)" <<<"$out"; }
wait_status roles_off_a
grep -qxF "  Excluded               - $(addr a)" <<<"$out" || fail "status does not show the exclusion"
expect "exclude" 0 "Excluded: $(addr a)"
expect "writemode on; set excluded a; get excluded" 0 "\`excluded' is \`a'"
expect "exclude $(addr c)" 1
grep -qF "ERROR: no_transaction_host_left (2146)" <<<"$out" || fail "excluding the last transaction host: no clear error"
echo "$out"
expect "include all" 0 "Excluded now: none"
expect "exclude" 0 "Excluded: none"
expect "exclude 127.0.0.1:1" 0 \
  "WARNING: 127.0.0.1:1 is not a process of this cluster (none has registered from there): a typo? The exclusion holds should one start there (\`include 127.0.0.1:1' lifts it)"
expect "include 127.0.0.1:1" 0 "Excluded now: none"

echo "== coordinators auto"
expect "coordinators auto" 0
grep -qE "^Coordinators changed to 127\.0\.0\.1:[0-9]+$" <<<"$out" || fail "auto (single replication) did not pick one coordinator"
# At once, so a controller elected a moment ago answers: it must not take a coordinator it has
# not heard from yet for gone.
auto_file=$(cat "$cluster_file")
generation() {
  run_cli "status json"
  /usr/bin/python3 -c 'import json, sys; print(json.loads(sys.stdin.read())["generation"])' <<<"$out"
}
# Generation 0 while the change above still recovers.
for _ in $(seq 60); do
  generation_before=$(generation)
  [ "$generation_before" = 0 ] || break
  sleep 0.5
done
expect "coordinators auto" 0
grep -qE "^Coordinators unchanged: 127\.0\.0\.1:[0-9]+ \(already the set asked for\)$" <<<"$out" ||
  fail "auto a second time did not leave the set as it was"
[ "$(cat "$cluster_file")" = "$auto_file" ] || fail "an unchanged set rewrote the cluster file"
sleep 1
generation_after=$(generation)
[ "$generation_after" = "$generation_before" ] ||
  fail "an unchanged set started a recovery: generation $generation_before, then $generation_after"
expect "get with_ab" 0 "\`with_ab' is \`down'"

echo "== a coordinator down: status names it (the controller's own view cannot tell)"
expect "coordinators $(addr c) $(addr d) $(addr e)" 0 "Coordinators changed to $(addr c), $(addr d), $(addr e)"
run_cli "status"
grep -qF "Coordinators down" <<<"$out" && fail "status shows a coordinator down while all run: $out"
kill_server "${pid_e}"
run_cli "status"
echo "$out" | grep -F "Coordinators"
grep -qxF "  Coordinators down      - 1 of 3 not answering: nothing accepts connections at $(addr e) (1 more failure and the cluster cannot elect a controller or recover)" <<<"$out" ||
  fail "status does not show E down"
run_cli "status json"
/usr/bin/python3 -c '
import json, sys
down = json.loads(sys.stdin.read())["coordinators_unreachable"]
assert [entry["address"] for entry in down] == [sys.argv[1]], down
' "$(addr e)" <<<"$out" || fail "status json does not list E as unreachable"

echo "PASS"

#!/usr/bin/env bash
# Recovery with real processes (docs/fault_tolerance.md, "Recovery as built"): five `keel server`
# processes on 127.0.0.1, three of them coordinators. A, B and C may host any transaction role
# and list "tlog" (every generation has three logs), D lists proxy and resolver, E is
# storage-only; each hosts one storage server of a shard. While `keel bench db --workload bank`
# moves money between accounts and audits the total, the test kills a random process with
# kill -9 every few seconds (one down at a time), restarts it 1-2 s later on the same data
# directory, and measures for each kill the time until a `set` through `keel cli` commits again.
# Every acknowledged `set` is a marker that must be there at the end. Passes when the bank's
# audits and its final audit held (it exits 0), transfers committed after the last restart, and
# every marker is present; prints the recovery times (min/median/max).
#
# KEEL_KILL_SEED=N replays the choice of victims and delays; KEEL_KEEP_TRACES=DIR keeps every
# server's output and trace.jsonl there when the test fails.
set -euo pipefail
keel=${1:?usage: kill_test.sh PATH_TO_KEEL}
# shellcheck source=cli_lib.sh
source "$(dirname "$0")/cli_lib.sh"

seed=${KEEL_KILL_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$seed
echo "seed $seed (KEEL_KILL_SEED=$seed replays the victims and delays)"

names=(a b c d e)
accounts=100
bank_clients=8
bank_seconds=45
kills_max=6
kills_min=3
kill_quiet_seconds=12     # no kill this close to the end of the bank run: commits must go on
recovery_seconds_max=60   # a write must commit again within this after a kill
probe_timeout_seconds=2   # each probe `set` (cli --timeout)
bank_wait_seconds_max=$((bank_seconds + 150))  # the bench bounds itself; this bounds the wait

declare -A port pid starts
background_pids=()

# The servers (cli_lib's cleanup), the bank client and a running probe; keeps the evidence of a
# failure when KEEL_KEEP_TRACES names a directory.
kill_test_cleanup() {
  local result=$? background name
  for background in "${background_pids[@]}"; do
    kill -TERM "$background" 2>/dev/null || true
    wait "$background" 2>/dev/null || true
  done
  if [ $result != 0 ] && [ -n "${KEEL_KEEP_TRACES:-}" ]; then
    mkdir -p "$KEEL_KEEP_TRACES"
    cp "$work"/*.out "$KEEL_KEEP_TRACES"/ 2>/dev/null || true
    for name in "${names[@]}"; do
      cp "$work/data-$name/trace.jsonl" "$KEEL_KEEP_TRACES/trace-$name.jsonl" 2>/dev/null || true
    done
    echo "server output and traces kept in $KEEL_KEEP_TRACES"
  fi
  cleanup
}
trap kill_test_cleanup EXIT

now_ms() { date +%s%3N; }

write_config() {
  cat >"$work/cluster.toml" <<EOF
coordinators = ["127.0.0.1:${port[a]}", "127.0.0.1:${port[b]}", "127.0.0.1:${port[c]}"]
[[process]]
address = "127.0.0.1:${port[a]}"
roles = ["proxy", "resolver", "tlog", "storage"]
[[process]]
address = "127.0.0.1:${port[b]}"
roles = ["proxy", "resolver", "tlog", "storage"]
[[process]]
address = "127.0.0.1:${port[c]}"
roles = ["proxy", "resolver", "tlog", "storage"]
[[process]]
address = "127.0.0.1:${port[d]}"
roles = ["proxy", "resolver", "storage"]
[[process]]
address = "127.0.0.1:${port[e]}"
roles = ["storage"]
[shards]
count = 5
EOF
}

# start_named NAME: `keel server` NAME on its port and data directory, output in a new NAME.N.out.
# Status as start_server's (2: the port was taken).
start_named() {
  local name=$1
  starts[$name]=$((${starts[$name]:-0} + 1))
  start_server "$work/$name.${starts[$name]}.out" --config "$work/cluster.toml" --listen "127.0.0.1:${port[$name]}" \
    --data "$work/data-$name" --cluster-file "$cluster_file"
  local result=$?
  pid[$name]=""
  [ $result = 0 ] && pid[$name]=$server_pid
  return $result
}

# start_cluster: the five processes on fresh ports; status as start_server's (2: retry).
start_cluster() {
  local name result started
  for name in "${names[@]}"; do
    port[$name]=$(free_port)
    pid[$name]=""
  done
  [ "$(printf '%s\n' "${port[@]}" | sort -u | wc -l)" = 5 ] || return 2
  write_config
  for name in "${names[@]}"; do
    result=0
    start_named "$name" || result=$?
    if [ $result != 0 ]; then
      for started in "${names[@]}"; do
        if [ -n "${pid[$started]}" ]; then kill_server "${pid[$started]}"; fi
        pid[$started]=""
      done
      rm -rf "$work"/data-? "$cluster_file" "$work"/*.out
      return $result
    fi
  done
}

# record_marker KEY VALUE: an acknowledged `set` that must survive to the end.
record_marker() { echo "$1 $2" >>"$work/markers"; }

# probe KILL: `set marker/kill<KILL>-<attempt>` until one commits, at most recovery_seconds_max;
# writes the time of the commit (Unix ms) to $work/probe.KILL. Runs in the background: TERM
# stops it and its cli.
probe() {
  local kill=$1 attempt=0 deadline=$(($(now_ms) + recovery_seconds_max * 1000)) child="" key
  trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; exit 1' TERM
  while [ "$(now_ms)" -lt $deadline ]; do
    attempt=$((attempt + 1))
    key="marker/kill$kill-$attempt"
    timeout 10 "$keel" cli -C "$cluster_file" --timeout $probe_timeout_seconds \
      --exec "writemode on; set $key k$kill" >"$work/probe.$kill.out" 2>&1 &
    child=$!
    wait $child || true
    child=""
    if grep -qE '^Committed \([0-9]+\)$' "$work/probe.$kill.out"; then
      now_ms >"$work/probe.$kill"
      record_marker "$key" "k$kill"
      return 0
    fi
    sleep 0.05
  done
  return 1
}

# roles_of NAME: what status says NAME hosts ("controller, proxy, tlog x2, ..."), or "-".
roles_of() {
  local address="127.0.0.1:${port[$1]}" roles=() role count
  run_cli "status"
  [ "$status" = 0 ] || { echo "unknown (status failed)"; return 0; }
  grep -qxF "  Cluster controller     - $address" <<<"$out" && roles+=("controller")
  for role in sequencer proxy resolver tlog; do
    count=$(sed -nE "s/^  $role +$address( \(x([0-9]+)\))?$/x\2/p" <<<"$out")
    [ -z "$count" ] && continue
    [ "$count" = x ] && roles+=("$role") || roles+=("$role $count")
  done
  [ ${#roles[@]} = 0 ] && { echo "storage only"; return 0; }
  local joined
  printf -v joined '%s, ' "${roles[@]}"
  echo "${joined%, }"
}

# ---- the cluster

start_until_ports_free start_cluster
for name in "${names[@]}"; do echo "$name: pid ${pid[$name]} on 127.0.0.1:${port[$name]}"; done
wait_ready
: >"$work/markers"
run_cli "writemode on; set marker/start s"
[ "$status" = 0 ] || fail "the first write failed"
record_marker "marker/start" "s"
run_cli "status"
grep -E "^  (Generation|Recovery state|Cluster controller) " <<<"$out" || true

# ---- the bank, and kills while it runs

echo "== bank: $accounts accounts, $bank_clients clients, $bank_seconds s"
"$keel" bench db --workload bank --accounts $accounts --clients $bank_clients --duration $bank_seconds \
  -C "$cluster_file" >"$work/bank.out" 2>&1 &
bank_pid=$!
background_pids+=("$bank_pid")
for _ in $(seq 1 600); do
  grep -q "^bank | $accounts accounts" "$work/bank.out" && break
  kill -0 "$bank_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q "^bank | $accounts accounts" "$work/bank.out" || fail "the bank did not start: $(cat "$work/bank.out")"
bank_started_ms=$(now_ms)
sleep 3

recoveries=()       # ms from each kill until a write committed
role_recoveries=()  # the same, for kills of a process hosting the controller or a transaction role
last_restart_ms=0
kills=0
while [ $kills -lt $kills_max ] &&
  [ $(($(now_ms) - bank_started_ms)) -lt $(((bank_seconds - kill_quiet_seconds) * 1000)) ]; do
  kills=$((kills + 1))
  victim=${names[$((RANDOM % 5))]}
  hosted=$(roles_of "$victim")
  restart_after_ms=$((1000 + RANDOM % 1000))
  killed_ms=$(now_ms)
  kill_server "${pid[$victim]}"
  rm -f "$work/probe.$kills"
  probe $kills &
  probe_pid=$!
  background_pids+=("$probe_pid")
  sleep "$(printf '%d.%03d' $((restart_after_ms / 1000)) $((restart_after_ms % 1000)))"
  restarted=0
  start_named "$victim" || restarted=$?
  [ $restarted = 0 ] || fail "$victim did not restart on 127.0.0.1:${port[$victim]}"
  restarted_ms=$(now_ms)
  last_restart_ms=$restarted_ms
  set +e
  wait "$probe_pid"
  probed=$?
  set -e
  unset 'background_pids[-1]'
  if [ $probed != 0 ] || [ ! -f "$work/probe.$kills" ]; then
    fail "kill $kills ($victim: $hosted): no write committed within $recovery_seconds_max s (last probe: $(cat "$work/probe.$kills.out"))"
  fi
  recovery_ms=$(($(cat "$work/probe.$kills") - killed_ms))
  recoveries+=("$recovery_ms")
  [ "$hosted" = "storage only" ] || role_recoveries+=("$recovery_ms")
  echo "kill $kills: $victim (127.0.0.1:${port[$victim]}; $hosted): a write committed $recovery_ms ms after the" \
    "kill; restarted after $((restarted_ms - killed_ms)) ms"
  run_cli "writemode on; set marker/after$kills a$kills"
  if [ "$status" = 0 ] && grep -qE '^Committed \([0-9]+\)$' <<<"$out"; then record_marker "marker/after$kills" "a$kills"; fi
  sleep "$((2 + RANDOM % 2)).$((RANDOM % 10))"
done
[ $kills -ge $kills_min ] || fail "only $kills kills fit in the bank's run"

# ---- the bank finishes; every marker is there

echo "== waiting for the bank"
for _ in $(seq 1 $((bank_wait_seconds_max * 10))); do
  kill -0 "$bank_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$bank_pid" 2>/dev/null; then fail "the bank did not finish within $bank_wait_seconds_max s"; fi
set +e
wait "$bank_pid"
bank_status=$?
set -e
unset 'background_pids[0]'
grep -v "^bank progress" "$work/bank.out"
[ $bank_status = 0 ] || fail "the bank exited $bank_status: $(grep -F "FAILED" "$work/bank.out" | head -5)"
last_transfer_ms=$(sed -nE 's/^bank \| transfers .* last transfer unix_ms ([0-9]+) .*/\1/p' "$work/bank.out")
[ -n "$last_transfer_ms" ] || fail "the bank printed no summary"
[ "$last_transfer_ms" -gt "$last_restart_ms" ] ||
  fail "no transfer committed after the last restart (last transfer at $last_transfer_ms, restart at $last_restart_ms)"
after_ms=$(awk -v t="$last_restart_ms" '/^bank progress/ { if ($8 <= t) before = $11; last = $11 } END { print last - before }' \
  "$work/bank.out")
echo "transfers committed after the last restart: at least $after_ms (progress lines), the last $((last_transfer_ms - last_restart_ms)) ms after it"

wait_ready
run_cli "getrange marker/ marker0 10000"
[ "$status" = 0 ] || fail "reading the markers exited $status"
missing=0
while read -r key value; do
  if ! grep -qxF "\`$key' is \`$value'" <<<"$out"; then
    echo "missing acknowledged marker: $key"
    missing=$((missing + 1))
  fi
done <"$work/markers"
markers=$(wc -l <"$work/markers")
[ $missing = 0 ] || fail "$missing of $markers acknowledged markers lost"
echo "all $markers acknowledged markers present"
run_cli "status"
grep -E "^  (Generation|Recovery state|Recoveries|Cluster controller) " <<<"$out" || true

# summarize LABEL MS...: "LABEL: MS... | N kills | min median max" (the lower middle for even N).
summarize() {
  local label=$1 sorted count
  shift
  [ $# -gt 0 ] || { echo "$label: no kills"; return 0; }
  sorted=$(printf '%s\n' "$@" | sort -n)
  count=$#
  echo "$label: $(tr '\n' ' ' <<<"$sorted")| $count kills | min $(head -1 <<<"$sorted")" \
    "median $(sed -n "$(((count + 1) / 2))p" <<<"$sorted") max $(tail -1 <<<"$sorted")"
}
summarize "recovery after kill -9 (ms until a write committed)" "${recoveries[@]}"
summarize "  of them kills of the controller or a transaction role" "${role_recoveries[@]}"
echo "PASS"

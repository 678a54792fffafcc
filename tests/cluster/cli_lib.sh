# shellcheck shell=bash
# Shared by the `keel cli` cluster tests (sourced, not run): a scratch directory, servers started
# on free ports of 127.0.0.1 and killed with kill -9 by PID when the test ends, helpers that run
# `keel cli --exec` and check its output, and a writer whose acknowledged keys must survive a
# kill -9 and restart. Set `keel` before sourcing.
: "${keel:?set keel to the keel binary before sourcing cli_lib.sh}"
work=$(mktemp -d)
cluster_file="$work/keel.cluster"  # the cluster file run_cli uses
data="$work/data"                  # the data directory of start_on's server
server_args=()                     # more `keel server` arguments for start_on
server_pids=()
out=""
status=0
cli_timeout=10  # seconds each cli command may take (--timeout)

cleanup() {
  local pid
  for pid in "${server_pids[@]}"; do
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $1"
  if [ -n "$out" ]; then
    echo "--- last cli output:"
    echo "$out"
  fi
  local log
  for log in "$work"/*.out; do
    [ -f "$log" ] || continue
    echo "--- $log:"
    tail -20 "$log"
  done
  exit 1
}

# Prints a port of 127.0.0.1 that nothing listens on now, below Linux's ephemeral range (32768
# on) so outgoing connections of tests running beside this one do not take it. A later bind may
# still race: callers retry with another port when the server reports it cannot listen.
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((10000 + RANDOM % 22000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# start_server LOG ARGS...: runs `keel server ARGS...` in the background with its output in LOG
# and waits until it listens. Sets server_pid. Status 0 when listening, 2 when it could not bind
# its port (retry another), 1 when it failed otherwise or did not start within 10 s.
start_server() {
  local log=$1
  shift
  "$keel" server "$@" >"$log" 2>&1 &
  server_pid=$!
  server_pids+=("$server_pid")
  for _ in $(seq 1 200); do
    grep -q "listening on" "$log" && return 0
    if ! kill -0 "$server_pid" 2>/dev/null; then
      kill_server "$server_pid"
      grep -q "cannot listen" "$log" && return 2
      return 1
    fi
    sleep 0.05
  done
  kill_server "$server_pid"
  return 1
}

# forget_pid PID: a reaped process that cleanup must not signal (its PID may be reused).
forget_pid() {
  local pid kept=()
  for pid in "${server_pids[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
  server_pids=("${kept[@]}")
}

# kill_server PID: kill -9, reap it and forget it.
kill_server() {
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget_pid "$1"
}

# run_cli COMMANDS: runs them with --exec against $cluster_file; output (stdout and stderr) in
# $out, exit status in $status. Bounded by `timeout` even if the cli misbehaved.
run_cli() {
  set +e
  out=$(timeout 120 "$keel" cli -C "$cluster_file" --timeout "$cli_timeout" --exec "$1" 2>&1)
  status=$?
  set -e
  [ "$status" -ne 124 ] || fail "\`$1' hung (killed by timeout)"
}

# expect COMMANDS STATUS LINE...: the commands exit with STATUS and print every LINE (whole lines).
expect() {
  local commands=$1 want=$2 line
  shift 2
  run_cli "$commands"
  [ "$status" = "$want" ] || fail "\`$commands' exited $status, expected $want"
  for line in "$@"; do
    grep -qxF -- "$line" <<<"$out" || fail "\`$commands' did not print: $line"
  done
}

# expect_no COMMANDS LINE: the commands succeed and never print LINE.
expect_no() {
  run_cli "$1"
  [ "$status" = 0 ] || fail "\`$1' exited $status"
  if grep -qxF -- "$2" <<<"$out"; then fail "\`$1' printed: $2"; fi
}

# wait_ready: until a read succeeds (the cluster recovered), at most about 30 s.
wait_ready() {
  local saved=$cli_timeout
  cli_timeout=3
  for _ in $(seq 1 10); do
    run_cli "get readiness-probe"
    if [ "$status" = 0 ]; then
      cli_timeout=$saved
      return 0
    fi
  done
  fail "the cluster did not become ready"
}

# start_on PORT LOG: the single-process server of the test on 127.0.0.1:PORT (see start_server).
start_on() {
  start_server "$2" --listen "127.0.0.1:$1" --data "$data" --cluster-file "$cluster_file" "${server_args[@]}"
}

# start_on_free_port LOG: start_on on free ports until a server
# listens (at most 5 attempts, removing $data and $cluster_file after each port that was taken);
# sets port and server_pid.
start_on_free_port() {
  local started=1
  port=""
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    started=0
    start_on "$port" "$1" || started=$?
    [ "$started" = 0 ] && return 0
    [ "$started" = 2 ] || fail "the server did not start"
    rm -rf "$data" "$cluster_file"
  done
  fail "no free port after 5 attempts"
}

# restart_on_port LOG: `start_on $port LOG` again (the same data directory); fails the test unless
# it listens, then waits until the cluster is ready. Sets server_pid.
restart_on_port() {
  local started
  started=0
  start_on "$port" "$1" || started=$?
  [ "$started" = 0 ] || fail "the restarted server did not start on 127.0.0.1:$port"
  wait_ready
}

# ---- Acknowledged writes across kill -9 (restart_test.sh, engine_durability_test.sh) ----

ack_batch_keys=100
ack_batches_max=200
acked_before_kill=300  # the kill comes after at least this many acknowledgements

# acked_writer: batches of `set keyI valueI` through `keel cli --exec`, each `Committed (VERSION)`
# line acknowledging one key; appends each acknowledged "KEY VALUE" to $work/acked and stops at
# the first failed batch, with its error in $work/writer_error.
acked_writer() {
  local batch i commands output acked batch_status
  for batch in $(seq 0 $((ack_batches_max - 1))); do
    commands="writemode on"
    for i in $(seq $((batch * ack_batch_keys)) $((batch * ack_batch_keys + ack_batch_keys - 1))); do
      commands+="; set key$i value$i"
    done
    set +e
    output=$(timeout 60 "$keel" cli -C "$cluster_file" --timeout 3 --exec "$commands" 2>&1)
    batch_status=$?
    set -e
    acked=$(grep -cE '^Committed \([0-9]+\)$' <<<"$output" || true)
    for i in $(seq $((batch * ack_batch_keys)) $((batch * ack_batch_keys + acked - 1))); do
      echo "key$i value$i"
    done >>"$work/acked"
    if [ $batch_status != 0 ]; then
      echo "$output" | grep -v '^Committed' >"$work/writer_error"
      return 0
    fi
  done
  echo "the writer finished every batch" >"$work/writer_error"
}

# kill_during_writes PID: runs acked_writer against the server PID and kills the server with
# kill -9 after at least $acked_before_kill acknowledgements; fails unless the kill landed while
# the writer was still writing. Sets acked (how many keys were acknowledged).
kill_during_writes() {
  local writer_pid
  : >"$work/acked"
  acked_writer &
  writer_pid=$!
  for _ in $(seq 1 600); do
    [ "$(wc -l <"$work/acked")" -ge $acked_before_kill ] && break
    kill -0 "$writer_pid" 2>/dev/null || break
    sleep 0.05
  done
  sleep "0.0$((RANDOM % 10))"
  kill_server "$1"
  echo "killed the server after $(wc -l <"$work/acked") acknowledgements"
  wait "$writer_pid"
  acked=$(wc -l <"$work/acked")
  echo "writer stopped: $(cat "$work/writer_error")"
  [ "$acked" -ge $acked_before_kill ] || fail "only $acked keys acknowledged before the kill"
  if grep -qF "the writer finished" "$work/writer_error"; then fail "the kill did not land mid-stream"; fi
}

# expect_acked_keys: every key acknowledged by kill_during_writes is there with its value.
expect_acked_keys() {
  local present missing=0 key value
  run_cli "getrange key kez 10000"
  [ "$status" = 0 ] || fail "getrange after the restart exited $status"
  present=$(grep -c "^\`key" <<<"$out" || true)
  while read -r key value; do
    if ! grep -qxF "\`$key' is \`$value'" <<<"$out"; then
      echo "missing acknowledged key: $key"
      missing=$((missing + 1))
    fi
  done <"$work/acked"
  [ $missing = 0 ] || fail "$missing of $acked acknowledged keys lost"
  echo "all $acked acknowledged keys present ($present keys in all)"
}

# start_processes START NAME...: runs `START NAME` (which starts NAME's server with start_server)
# for each name in turn and sets pid_NAME. On a failure it stops the servers it started,
# removes their data and the cluster file, and returns start_server's status (2: retry with
# other ports).
start_processes() {
  local start=$1 name result pid started=()
  shift
  for name in "$@"; do
    result=0
    "$start" "$name" || result=$?
    if [ $result != 0 ]; then
      for pid in "${started[@]}"; do kill_server "$pid"; done
      rm -rf "$work"/data-? "$cluster_file"
      return $result
    fi
    started+=("$server_pid")
    printf -v "pid_$name" '%s' "$server_pid"
  done
}

# start_until_ports_free START: runs START (which starts a cluster on fresh free ports, status
# as start_processes': 2 when a port was taken) up to 5 times; fails the test unless it started.
start_until_ports_free() {
  local result=1
  for _ in 1 2 3 4 5; do
    result=0
    "$1" || result=$?
    [ "$result" = 0 ] && return 0
    [ "$result" = 2 ] || fail "the cluster did not start"
  done
  fail "no free ports after 5 attempts"
}

# shellcheck shell=bash
# Shared by the `keel cli` cluster tests (sourced, not run): a scratch directory, servers started
# on free ports of 127.0.0.1 and killed with kill -9 by PID when the test ends, and helpers that
# run `keel cli --exec` and check its output. Set `keel` before sourcing.
: "${keel:?set keel to the keel binary before sourcing cli_lib.sh}"
cluster_file=""  # the cluster file run_cli uses (set by the test once its server runs)
work=$(mktemp -d)
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

# Prints a port of 127.0.0.1 that nothing listens on now (a later bind may still race: callers
# retry with another port when the server reports it cannot listen).
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
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

#!/usr/bin/env bash
# bench/compare/redis.sh: KeelDB's Redis front end next to redis-server with fsync-always
# durability, measured with redis-benchmark in one run on this machine. The figure that matters
# is the ratio keel/redis: the machine is shared and noisy, and the servers and the load
# generator share its cores (the load average is printed before and after).
#
#   redis-benchmark -t set,get,incr,mset -n N -r 1000000 -c 50 [-P 16]
#
# against keel (commits fsynced on the log before they are acknowledged) and against
# `redis-server --appendonly yes --appendfsync always --save ""` started by this script, each
# on a free 127.0.0.1 port with its data in a temporary directory, killed by PID at exit.
# Targets take turns test by test. keel runs as
#   single: `keel server`, the embedded default (every role in one process; each shard on one
#           storage server);
#   double: two processes of one cluster (`--config`, replication = "double"): the first hosts
#           the transaction roles, a storage server and the Redis front end, the second a storage
#           server; every shard is on both, so each write is applied and made durable twice.
#
# Usage: bench/compare/redis.sh [--keel PATH] [--knob NAME=VALUE]... [-n REQUESTS] [--clients N]
#                               [--pipeline P] [--replication single|double]
#   --keel         the keel binary (default build/release/src/cmd/keel; it is not built here)
#   --knob         passed to `keel server --knob` (e.g. resp_groups_in_flight_max=8)
#   -n             requests per test (default 200000; e.g. -n 20000 for a quick run)
#   --clients      concurrent connections (default 50)
#   --pipeline     the pipelined depth measured besides 1 (default 16)
#   --replication  keel's replication (default single)
set -euo pipefail

requests=200000
clients=50
pipeline=16
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
keel="$repo/build/release/src/cmd/keel"
knobs=()
replication=single
while [[ $# -gt 0 ]]; do
  case "$1" in
    --keel) keel="$2"; shift 2 ;;
    --knob) knobs+=(--knob "$2"); shift 2 ;;
    -n) requests="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --pipeline) pipeline="$2"; shift 2 ;;
    --replication) replication="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "redis.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$requests" =~ ^[0-9]+$ && "$requests" -ge 100 && "$requests" -le 10000000 ]] ||
  { echo "redis.sh: -n must be in [100, 10000000]" >&2; exit 2; }
[[ "$clients" =~ ^[0-9]+$ && "$clients" -ge 1 && "$clients" -le 1000 ]] ||
  { echo "redis.sh: --clients must be in [1, 1000]" >&2; exit 2; }
[[ "$pipeline" =~ ^[0-9]+$ && "$pipeline" -ge 2 && "$pipeline" -le 1000 ]] ||
  { echo "redis.sh: --pipeline must be in [2, 1000]" >&2; exit 2; }
[[ "$replication" == single || "$replication" == double ]] ||
  { echo "redis.sh: --replication must be single or double" >&2; exit 2; }
[ -x "$keel" ] || { echo "redis.sh: no keel binary at $keel (build it, or pass --keel PATH)" >&2; exit 1; }
for tool in redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "redis.sh: $tool is missing (scripts/setup installs it)" >&2; exit 1; }
done
keel="$(realpath "$keel")"
# One redis-benchmark run may take this long (keel unpipelined is the slowest: a few thousand
# fsynced commits per second at worst on a loaded machine).
run_seconds_max=$((requests / 200 + 120))

work="$(mktemp -d "${TMPDIR:-/tmp}/keel-redis-compare.XXXXXX")"
keel_pid=""
keel_storage_pid=""
redis_pid=""
cleanup() {
  [ -z "$keel_pid" ] || kill -9 "$keel_pid" 2>/dev/null || true
  [ -z "$keel_storage_pid" ] || kill -9 "$keel_storage_pid" 2>/dev/null || true
  [ -z "$redis_pid" ] || kill -9 "$redis_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for_write() {  # wait_for_write PORT PID: until a SET succeeds (bounded)
  local tries
  for tries in $(seq 1 300); do
    kill -0 "$2" 2>/dev/null || return 1
    [ "$(redis-cli -p "$1" set __bench_ready__ 1 2>/dev/null)" = OK ] && return 0
    sleep 0.1
  done
  return 1
}

redis_port=$(free_port)
mkdir -p "$work/redis"
redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work/redis" --appendonly yes --appendfsync always \
  --save "" --daemonize no --logfile "$work/redis/redis.log" &
redis_pid=$!
disown "$redis_pid"
wait_for_write "$redis_port" "$redis_pid" || { cat "$work/redis/redis.log"; echo "redis.sh: redis-server did not start" >&2; exit 1; }

keel_port=$(free_port)
if [ "$replication" = single ]; then
  "$keel" server --listen 127.0.0.1:0 --data "$work/keel" --cluster-file "$work/keel.cluster" \
    --resp "127.0.0.1:$keel_port" "${knobs[@]}" >"$work/keel.log" 2>&1 &
  keel_pid=$!
  disown "$keel_pid"
else
  main_port=$(free_port)
  storage_port=$(free_port)
  cat >"$work/cluster.toml" <<EOF
replication = "double"
[[process]]
address = "127.0.0.1:$main_port"
roles = ["sequencer", "proxy", "resolver", "tlog", "storage"]
[[process]]
address = "127.0.0.1:$storage_port"
roles = ["storage"]
EOF
  "$keel" server --config "$work/cluster.toml" --listen "127.0.0.1:$main_port" --data "$work/keel" \
    --cluster-file "$work/keel.cluster" --resp "127.0.0.1:$keel_port" "${knobs[@]}" >"$work/keel.log" 2>&1 &
  keel_pid=$!
  disown "$keel_pid"
  "$keel" server --config "$work/cluster.toml" --listen "127.0.0.1:$storage_port" --data "$work/keel-storage" \
    --cluster-file "$work/keel.cluster" "${knobs[@]}" >"$work/keel-storage.log" 2>&1 &
  keel_storage_pid=$!
  disown "$keel_storage_pid"
fi
wait_for_write "$keel_port" "$keel_pid" || { cat "$work/keel.log"; echo "redis.sh: keel server did not start" >&2; exit 1; }
replication_line=$("$keel" cli -C "$work/keel.cluster" --timeout 10 --exec status 2>/dev/null | grep -m1 'Replication' || true)
echo "redis.sh: keel$(echo "$replication_line" | sed 's/^ *Replication *-/ replication/')"
if [ "$replication" = double ] && ! grep -qF 'double (2 of 2 replicas reachable for every shard)' <<<"$replication_line"; then
  cat "$work/keel.log" "$work/keel-storage.log"
  echo "redis.sh: keel's shards are not on two storage servers each" >&2
  exit 1
fi

echo "redis.sh: keel $keel ${knobs[*]} on 127.0.0.1:$keel_port (pid $keel_pid${keel_storage_pid:+, storage process $keel_storage_pid});" \
  "$(redis-server --version | cut -d' ' -f1-3) on 127.0.0.1:$redis_port (pid $redis_pid, appendonly yes, appendfsync always)"
echo "redis.sh: -n $requests -r 1000000 -c $clients; $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# bench PORT TEST [-P N]: "TEST<TAB>ops/s".
bench() {
  local port=$1 test=$2
  shift 2
  timeout "$run_seconds_max" redis-benchmark -h 127.0.0.1 -p "$port" -t "$test" -n "$requests" \
    -r 1000000 -c "$clients" --csv "$@" 2>/dev/null |
    awk -F'","' 'NR > 1 { gsub(/"/, "", $1); gsub(/"/, "", $2); print $1 "\t" $2 }'
}

printf '%-16s %8s %14s %14s %12s\n' test pipeline keel_ops_s redis_ops_s keel/redis >"$work/table"
for depth in 1 "$pipeline"; do
  for test in set get incr mset; do
    args=()
    [ "$depth" -eq 1 ] || args=(-P "$depth")
    # One test at a time, so the two servers take turns on the same test.
    keel_line=$(bench "$keel_port" "$test" "${args[@]}" | head -1 || true)
    redis_line=$(bench "$redis_port" "$test" "${args[@]}" | head -1 || true)
    name=$(echo "${keel_line:-$redis_line}" | cut -f1)
    keel_rate=$(echo "$keel_line" | cut -f2)
    redis_rate=$(echo "$redis_line" | cut -f2)
    ratio=$(awk -v k="${keel_rate:-0}" -v r="${redis_rate:-0}" 'BEGIN { if (r > 0) printf "%.2f", k / r; else print "n/a" }')
    printf '%-16s %8s %14s %14s %12s\n' "${name:-$test}" "$depth" "${keel_rate:-failed}" "${redis_rate:-failed}" \
      "$ratio" | tee -a "$work/table"
  done
done
echo "redis.sh: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
cat "$work/table"

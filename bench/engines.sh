#!/usr/bin/env bash
# bench/engines.sh: the storage engines side by side through the cluster (issue 5's benchmark).
# For each engine it starts `keel server --engine E` (embedded: every role in one process) on
# 127.0.0.1 with the Redis front end off, loads --keys keys (16-byte keys, 100-byte values, 1,000
# keys per transaction) with `keel bench db --workload load`, then measures with `keel bench db
# --no-load`: point reads with a uniform key choice, point reads with a Zipfian one (theta 0.99),
# and a 50/50 read/update mix (uniform). It prints one table:
#   engine | load keys/s committed / durable | write amp (engine) | write amp (disk) | space amp |
#   uniform reads/s, p99 ms, disk KiB/read | zipfian (the same) | mix ops/s, p99 ms |
#   data directory size | peak memory (capped runs)
# - load keys/s: until the last load transaction committed / until every key is durable in the
#   storage engines (which includes the 5 s MVCC window a version spends in memory);
# - write amp (engine): device / logical bytes the engines wrote during the load, as they report
#   them in `status`; write amp (disk): bytes the block device under the data directory wrote
#   during the load (/proc/diskstats: the whole machine, so the tlog and anything else running
#   count too) / the engines' logical bytes; space amp: engine files / live keys and values;
# - reads/s and p99 per read, and the KiB the server read from the disk per read (/proc/PID/io
#   read_bytes over the run / reads); the mix's p99 per transaction (an update includes its commit);
# - the data directory also holds the tlog's and coordinator's files.
#
# --memory-cap MB measures with the server in a memory cgroup of MB MiB (the server's heap AND its
# page cache are charged to it), so with a data set several times the cap reads come from the
# disk. By default the load runs uncapped; after it the script stops the server, evicts its files
# from the page cache (posix_fadvise DONTNEED, those files only), and restarts it in the cgroup
# on the same data. With --load-capped the server runs in the cgroup from the start, load
# included: it takes the cgroup's limit as its memory budget, which sizes rocksdb's caches, and
# the ratekeeper holds its memory within it by slowing the load (docs/storage_engines.md, "Memory
# budget"). --server-knob NAME=VALUE is given to every server as --knob (repeatable), e.g.
# ratekeeper_storage_window_target_bytes=N. systemd-run --scope needs systemd as PID 1, which this
# container does not have, so the script creates a cgroup v1 memory group under its own
# (/sys/fs/cgroup/memory/...) or a cgroup v2 child (memory.max) where that is the hierarchy. The
# memory engine keeps everything in RAM and is skipped in a capped run.
#
# Usage: bench/engines.sh [--keys N] [--duration SECONDS] [--clients N] [--engines "memory ssd rocksdb"]
#                         [--memory-cap MB [--load-capped]] [--server-knob NAME=VALUE]...
#                         [--keel PATH] [--time-limit SECONDS]
# Defaults: 10,000,000 keys (7 to 10 minutes of load per engine, 25 to 35 minutes in all, on the
# shared 2-core development VM; see docs/storage_engines.md "Benchmark"), 20 s per measurement,
# 50 clients, build/release keel.
# Every step is bounded in time; servers it started are stopped by PID at exit; data lives in a
# temporary directory removed at exit. Measures only; asserts nothing.
set -euo pipefail

keys=10000000
duration_seconds=20
clients=50
engines="memory ssd rocksdb"
memory_cap_mb=0
load_capped=0
server_knobs=()
keel="build/release/src/cmd/keel"
time_limit_seconds=14400
while [[ $# -gt 0 ]]; do
  case "$1" in
    --keys) keys="$2"; shift 2 ;;
    --duration) duration_seconds="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --engines) engines="$2"; shift 2 ;;
    --memory-cap) memory_cap_mb="$2"; shift 2 ;;
    --load-capped) load_capped=1; shift ;;
    --server-knob) server_knobs+=(--knob "$2"); shift 2 ;;
    --keel) keel="$2"; shift 2 ;;
    --time-limit) time_limit_seconds="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "engines.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
whole_number() { [[ "$1" =~ ^[0-9]+$ ]]; }
{ whole_number "$keys" && [[ "$keys" -ge 1 && "$keys" -le 100000000 ]]; } || { echo "engines.sh: --keys in [1, 1e8]" >&2; exit 2; }
{ whole_number "$duration_seconds" && [[ "$duration_seconds" -ge 1 ]]; } || { echo "engines.sh: --duration >= 1" >&2; exit 2; }
{ whole_number "$clients" && [[ "$clients" -ge 1 ]]; } || { echo "engines.sh: --clients >= 1" >&2; exit 2; }
whole_number "$memory_cap_mb" || { echo "engines.sh: --memory-cap in MiB" >&2; exit 2; }
whole_number "$time_limit_seconds" || { echo "engines.sh: --time-limit in seconds" >&2; exit 2; }
[[ -x "$keel" ]] || { echo "engines.sh: no keel at $keel (build it, or pass --keel)" >&2; exit 2; }
keel="$(realpath "$keel")"

start_seconds=$(date +%s)
work="$(mktemp -d "${TMPDIR:-/tmp}/keel-engines.XXXXXX")"
server_pid=""
bench_pid=""
cgroup=""
note() { echo "engines.sh: $*" >&2; }
die() { note "$*"; exit 1; }

stop_server() {
  [[ -n "$server_pid" ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  if [[ -n "$cgroup" ]]; then rmdir "$cgroup" 2>/dev/null || true; cgroup=""; fi
}
cleanup() {
  if [[ -n "$bench_pid" ]]; then kill -TERM "$bench_pid" 2>/dev/null || true; wait "$bench_pid" 2>/dev/null || true; fi
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Seconds left before --time-limit, at most $1.
step_seconds() {
  local left=$((time_limit_seconds - ($(date +%s) - start_seconds)))
  [[ $left -gt 0 ]] || die "--time-limit of ${time_limit_seconds} s reached"
  echo $((left < $1 ? left : $1))
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A memory cgroup of $1 MiB under this shell's own; prints its directory.
make_cgroup() {
  local mb="$1" own dir
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then  # cgroup v2
    own="/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)"
    dir="$own/keel-engines-$$"
    mkdir "$dir" && echo $((mb * 1024 * 1024)) >"$dir/memory.max" || return 1
  else  # cgroup v1
    own="/sys/fs/cgroup/memory$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup)"
    dir="$own/keel-engines-$$"
    mkdir "$dir" && echo $((mb * 1024 * 1024)) >"$dir/memory.limit_in_bytes" || return 1
  fi
  echo "$dir"
}

# Bytes written to the block device holding $work so far (/proc/diskstats; whole machine), or "".
device_written_bytes() {
  local device
  device="$(basename "$(df --output=source "$work" | tail -n 1)")"
  awk -v device="$device" '$3 == device { printf "%.0f\n", $10 * 512 }' /proc/diskstats
}

# Bytes the server process has read from the block device (/proc/PID/io read_bytes).
server_read_bytes() { awk '/^read_bytes/ { print $2 }' "/proc/$server_pid/io" 2>/dev/null || echo 0; }

cgroup_peak_mb() {
  local file="$cgroup/memory.max_usage_in_bytes"
  [[ -f "$file" ]] || file="$cgroup/memory.peak"
  [[ -f "$file" ]] && echo $(($(cat "$file") / 1024 / 1024)) || echo "-"
}

# Drops the page cache of the files under $1 (after syncing them): a restarted server then reads
# its data from the disk, charged to its own cgroup, not from pages the uncapped load cached.
evict_page_cache() {
  python3 - "$1" <<'PYTHON'
import os, sys
for root, _, files in os.walk(sys.argv[1]):
    for name in files:
        fd = os.open(os.path.join(root, name), os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
PYTHON
}

start_server() {  # start_server ENGINE DIRECTORY PORT CAPPED(0|1)
  local engine="$1" directory="$2" port="$3" capped="$4"
  mkdir -p "$directory"
  rm -f "$directory/keel.cluster"
  local command=(nice -n 5 "$keel" server --engine "$engine" --data "$directory/data" --listen "127.0.0.1:$port"
    --cluster-file "$directory/keel.cluster" --resp off "${server_knobs[@]}")
  if [[ "$capped" == 1 ]]; then
    cgroup="$(make_cgroup "$memory_cap_mb")" || die "cannot create a memory cgroup (see --help)"
    # The child joins the cgroup, then becomes the server: only the server is capped.
    sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cgroup" "${command[@]}" >>"$directory/server.out" 2>&1 &
  else
    "${command[@]}" >>"$directory/server.out" 2>&1 &
  fi
  server_pid=$!
  for _ in $(seq 1 600); do
    if [[ -s "$directory/keel.cluster" ]] &&
      timeout 20 "$keel" cli -C "$directory/keel.cluster" --exec "get bench~tick" --timeout 10 >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$directory/server.out" >&2; die "the $engine server exited at start"; }
    sleep 0.1
  done
  die "the $engine server did not answer within 60 s"
}

# Runs `keel bench db` against the server; stops it (and fails) if the server dies meanwhile.
bench() {  # bench OUTPUT SECONDS_MAX ARGUMENTS...
  local output="$1" seconds_max="$2" status=0; shift 2
  timeout --signal=TERM --kill-after=10 "$(step_seconds "$seconds_max")" nice -n 5 "$keel" bench db \
    -C "$cluster_file" --keys "$keys" --clients "$clients" "$@" >"$output" 2>&1 &
  bench_pid=$!
  while kill -0 "$bench_pid" 2>/dev/null; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      note "the server died during the run (out of memory?)"
      kill -TERM "$bench_pid" 2>/dev/null || true
    fi
    sleep 1
  done
  wait "$bench_pid" || status=$?
  bench_pid=""
  return "$status"
}

field() { awk -F'|' -v row="$1" -v column="$2" '$1 ~ "^ *"row" *$" { gsub(/ /, "", $column); value = $column } END { print value }' "$3"; }
amp() { grep '^engines after load' "$2" | grep -o "$1 [0-9.-]*" | head -n 1 | awk '{ print $NF }'; }

rows=()
run_engine() {  # run_engine ENGINE
  local engine="$1" directory="$work/$1" load_rate write_amp space_amp column failed=""
  local -a reads=()
  local port
  port="$(free_port)"
  local load_cap=0
  [[ "$memory_cap_mb" -gt 0 && "$load_capped" == 1 ]] && load_cap=1
  start_server "$engine" "$directory" "$port" "$load_cap"
  cluster_file="$directory/keel.cluster"
  note "$engine: server $server_pid on $(cat "$cluster_file"); loading $keys keys (load average $(cut -d' ' -f1 /proc/loadavg))"
  local device_before device_after disk_amp="-" written_mb
  device_before="$(device_written_bytes)"
  if bench "$directory/load.out" 7200 --workload load; then
    device_after="$(device_written_bytes)"
    written_mb="$(grep '^engines after load' "$directory/load.out" | grep -o 'written [0-9.]*' | awk '{ print $2 }')"
    if [[ -n "$device_before" && -n "$device_after" && -n "$written_mb" ]]; then
      disk_amp="$(awk -v before="$device_before" -v after="$device_after" -v mb="$written_mb" \
        'BEGIN { if (mb > 0) printf "%.2f", (after - before) / 1e6 / mb; else print "-" }')"
    fi
    if [[ "$memory_cap_mb" -gt 0 && "$load_capped" == 0 ]]; then
      stop_server
      evict_page_cache "$directory/data"
      start_server "$engine" "$directory" "$port" 1
      note "$engine: restarted as $server_pid in $cgroup, capped at ${memory_cap_mb} MiB"
    fi
    load_rate="$(field load 4 "$directory/load.out" | sed 's/keys\/s//') / $(field "load durable in engines" 3 "$directory/load.out" | sed 's/keys\/s//')"
    write_amp="$(amp "write amp" "$directory/load.out")"
    space_amp="$(amp "space amp" "$directory/load.out")"
    cat "$directory/load.out" >&2
    for run in "uniform point-read" "zipfian point-read" "uniform mix --read-fraction 0.5"; do
      read -r distribution workload extra <<<"$run"
      note "$engine: $workload, $distribution, ${duration_seconds} s"
      local read_before read_after per_read
      read_before="$(server_read_bytes)"
      # shellcheck disable=SC2086
      if bench "$directory/run.out" $((duration_seconds * 3 + 120)) --workload "$workload" --no-load \
        --distribution "$distribution" --duration "$duration_seconds" $extra; then
        cat "$directory/run.out" >&2
        if [[ "$workload" == mix ]]; then
          column="$(field mix 3 "$directory/run.out") / $(field mix 6 "$directory/run.out")"
        else
          read_after="$(server_read_bytes)"
          per_read="$(awk -v before="$read_before" -v after="$read_after" -v rate="$(field reads 3 "$directory/run.out")" \
            -v seconds="$duration_seconds" 'BEGIN { if (rate > 0) printf "%.1f", (after - before) / 1024 / (rate * seconds); else print "-" }')"
          column="$(field reads 3 "$directory/run.out") / $(field reads 6 "$directory/run.out") / $per_read"
        fi
      else
        cat "$directory/run.out" >&2; column="failed"; failed=1
      fi
      reads+=("$column")
    done
  else
    cat "$directory/load.out" >&2; failed=1
    load_rate="failed"; write_amp="-"; space_amp="-"; reads=("-" "-" "-")
  fi
  local memory="-" disk
  disk="$(du -sm "$directory/data" | cut -f1) MiB"
  if [[ -n "$cgroup" ]]; then memory="$(cgroup_peak_mb) of ${memory_cap_mb} MiB"; fi
  if [[ -n "$server_pid" ]] && ! kill -0 "$server_pid" 2>/dev/null; then
    failed=1; note "$engine: the server died (out of memory?): $(tail -n 3 "$directory/server.out")"
  fi
  rows+=("| $engine | $load_rate | $write_amp | $disk_amp | $space_amp | ${reads[0]} | ${reads[1]} | ${reads[2]} | $disk | $memory |")
  note "$engine: ${rows[-1]}"
  stop_server
  rm -rf "$directory"
  [[ -z "$failed" ]] || note "$engine: some steps failed (see above)"
}

for engine in $engines; do
  if [[ "$memory_cap_mb" -gt 0 && "$engine" == memory ]]; then
    note "memory: skipped under --memory-cap (the memory engine keeps the whole data set in RAM)"
    continue
  fi
  run_engine "$engine"
done

cap_note="no memory cap"
[[ "$memory_cap_mb" -gt 0 ]] &&
  cap_note="load uncapped, then the server restarted capped at ${memory_cap_mb} MiB (heap + page cache)"
[[ "$memory_cap_mb" -gt 0 && "$load_capped" == 1 ]] &&
  cap_note="the server capped at ${memory_cap_mb} MiB (heap + page cache) from the start, load included"
echo
echo "$keys keys (16-byte keys, 100-byte values), $clients clients, ${duration_seconds} s per measurement, $cap_note;" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, $(($(date +%s) - start_seconds)) s in all"
echo "| engine | load keys/s committed / durable | write amp (engine) | write amp (disk) | space amp | uniform reads/s / p99 ms / disk KiB per read | zipfian reads/s / p99 ms / disk KiB per read | 50/50 mix ops/s / p99 ms | data dir | peak memory |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"

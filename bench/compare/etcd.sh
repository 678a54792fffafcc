#!/usr/bin/env bash
# bench/compare/etcd.sh: KeelDB next to etcd 3.4 (Debian's etcd-server, one member), measured side
# by side in one run on this machine. The figure that matters is the ratio keel/etcd: the machine is
# shared and noisy, and the server and the load generator share its cores.
#
# Workloads (the same on both; 18-byte keys "bench/" + 12 digits (keel: --key-size 18), --value-size bytes
# values, --keys keys preloaded, uniformly random keys):
#   point-read     one linearizable read per transaction (etcd: Get; keel: a 1-read transaction)
#   point-read x10 ten reads per transaction (etcd: one read-only Txn of 10 Gets; keel: the default)
#   point-write    one 1-key write per transaction (etcd: Put; keel: a 1-set transaction)
# each with 50 concurrent clients (throughput) and with 1 client (latency), except x10 (50 only).
# Both servers keep their data under ${TMPDIR:-/tmp} and fsync commits (their defaults).
#
# Both are measured the same way: a server process (keel: `keel server`, its embedded default of
# every role in one process) and a load generator process beside it (etcd: bench/compare/etcd_load;
# keel: `keel bench db -C`), each server preloaded once and restarted, its data kept, before each
# run. With --embedded keel runs as `keel bench db` alone, server and load generator in one process
# (a new server, loaded anew, per run).
#
# etcd and keel take turns run by run (each idles while the other runs); with --rounds N
# everything is measured N times and the table shows medians.
#
# Usage: bench/compare/etcd.sh [--duration SECONDS] [--keys N] [--value-size BYTES] [--rounds N] [--embedded] [--rebuild]
# It installs etcd-server, golang-go and golang-etcd-server-dev with apt-get if missing (as root),
# builds build/release keel if missing (or with --rebuild), builds bench/compare/etcd_load offline
# against the Debian-packaged Go sources, and uses 127.0.0.1 only. Every step is bounded in time.
set -euo pipefail

duration_seconds=10
keys=100000
value_bytes=100
rounds=1
rebuild=0
embedded=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration_seconds="$2"; shift 2 ;;
    --keys) keys="$2"; shift 2 ;;
    --value-size) value_bytes="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --rebuild) rebuild=1; shift ;;
    --embedded) embedded=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "etcd.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$duration_seconds" =~ ^[0-9]+$ && "$duration_seconds" -ge 1 && "$duration_seconds" -le 600 ]] ||
  { echo "etcd.sh: --duration must be whole seconds in [1, 600]" >&2; exit 2; }
[[ "$keys" =~ ^[0-9]+$ && "$keys" -ge 1 && "$keys" -le 10000000 ]] ||
  { echo "etcd.sh: --keys must be in [1, 10000000]" >&2; exit 2; }
[[ "$rounds" =~ ^[0-9]+$ && "$rounds" -ge 1 && "$rounds" -le 20 ]] ||
  { echo "etcd.sh: --rounds must be in [1, 20]" >&2; exit 2; }
[[ "$value_bytes" =~ ^[0-9]+$ && "$value_bytes" -le 100000 ]] ||
  { echo "etcd.sh: --value-size must be in [0, 100000]" >&2; exit 2; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
keel="$repo/build/release/src/cmd/keel"
# Time bounds of the steps, in seconds.
step_seconds_max=$((duration_seconds + keys / 200 + 120))  # one measured run, with keel's preload
load_seconds_max=$((keys / 100 + 300))         # etcd preload
build_seconds_max=3600

die() { echo "etcd.sh: $*" >&2; exit 1; }
note() { echo "etcd.sh: $*" >&2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/keel-etcd-compare.XXXXXX")"
etcd_pid=""
keel_pid=""
running_pid=""  # the process group of the bounded step in progress

stop_group() {  # stop_group PID: TERM its process group, then KILL after 10 s
  local pid="$1" i
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  [[ -n "$running_pid" ]] && stop_group "$running_pid"
  [[ -n "$etcd_pid" ]] && stop_group "$etcd_pid"
  [[ -n "$keel_pid" ]] && stop_group "$keel_pid"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run_bounded SECONDS OUT ERR COMMAND...: runs COMMAND in its own process group with stdout to OUT
# and stderr to ERR; stops the whole group (an embedded keel server too) if it overruns.
run_bounded() {
  local seconds="$1" out="$2" err="$3" i rc=0
  shift 3
  setsid "$@" >"$out" 2>"$err" &
  running_pid=$!
  for ((i = 0; i < seconds * 10; i++)); do
    kill -0 "$running_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$running_pid" 2>/dev/null; then
    stop_group "$running_pid"
    running_pid=""
    note "'$*' did not finish within $seconds s; stopped it. Its errors:"
    tail -n 20 "$err" >&2
    return 124
  fi
  wait "$running_pid" || rc=$?
  running_pid=""
  if [[ $rc -ne 0 ]]; then
    note "'$*' failed (exit $rc). Its errors:"
    tail -n 20 "$err" >&2
  fi
  return $rc
}

# --- 1. Packages -----------------------------------------------------------------------------
missing=()
command -v etcd >/dev/null || missing+=(etcd-server)
command -v go >/dev/null || missing+=(golang-go)
[[ -d /usr/share/gocode/src/go.etcd.io/etcd/clientv3 ]] || missing+=(golang-etcd-server-dev)
if [[ ${#missing[@]} -gt 0 ]]; then
  [[ $(id -u) -eq 0 ]] || die "missing ${missing[*]}; install them as root: apt-get install ${missing[*]}"
  note "installing ${missing[*]} with apt-get"
  if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq || die "apt-get update failed"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$work/apt.log" 2>&1 ||
    { tail -n 20 "$work/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
fi
etcd_version="$(etcd --version 2>/dev/null | sed -n 's/^etcd Version: //p')"
[[ "$etcd_version" == 3.4.* ]] || note "expected etcd 3.4, found '${etcd_version:-unknown}'"

# --- 2. keel ---------------------------------------------------------------------------------
if [[ $rebuild -eq 1 ]] || ! "$keel" bench db --help >/dev/null 2>&1; then
  note "building build/release keel (Release; this takes minutes on 2 cores)"
  run_bounded 600 "$work/cmake.out" "$work/cmake.err" \
    ./scripts/configure build/release -DCMAKE_BUILD_TYPE=Release || die "cmake configure failed"
  run_bounded "$build_seconds_max" "$work/ninja.out" "$work/ninja.err" ninja -C build/release keel ||
    { tail -n 30 "$work/ninja.out" >&2; die "building keel failed"; }
fi

# --- 3. The etcd load generator, built offline in GOPATH mode --------------------------------
# Debian's golang-*-dev packages install their sources under /usr/share/gocode/src, so GOPATH mode
# (GO111MODULE=off) resolves every import from there; GOPROXY=off makes sure nothing is fetched.
export GO111MODULE=off GOPROXY=off GOFLAGS= GOPATH="/usr/share/gocode:$work/gopath"
[[ -n "${HOME:-}" ]] || export GOCACHE="$work/go-cache"
load_tool="$work/etcd_load"
run_bounded 900 "$work/go.out" "$work/go.err" go build -o "$load_tool" ./bench/compare/etcd_load ||
  die "building bench/compare/etcd_load failed (GO111MODULE=off GOPATH=/usr/share/gocode go build)"

# --- 4. Start etcd on free loopback ports, preload it, measure both in turns, stop etcd -----
# etcd 3.4 copies its whole backend read buffer for every read (mvcc/backend bucketBuffer.Copy copies
# the buffer's grown length, not the entries in use), and the buffer shrinks only at a backend commit
# that follows more writes. Right after a bulk load or a write run its reads are several times
# slower than after a restart, so every etcd run starts from a restarted server (its data kept),
# and so does every keel run.
launch_etcd() {  # the data directory and ports are set; starts etcd and waits until it answers
  setsid etcd --name keel-compare --data-dir "$work/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$client_port" --advertise-client-urls "http://127.0.0.1:$client_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "keel-compare=http://127.0.0.1:$peer_port" --initial-cluster-state new \
    --logger zap --log-level warn >>"$work/etcd.log" 2>&1 &
  etcd_pid=$!
  etcd_endpoint="127.0.0.1:$client_port"
  run_bounded 60 "$work/wait.out" "$work/wait.err" "$load_tool" -mode wait -endpoint "$etcd_endpoint" -timeout 30
}

start_etcd() {  # a new one-member cluster on free loopback ports
  local attempt ports
  for attempt in 1 2 3; do
    ports="$("$load_tool" -mode ports -count 2)" || die "finding free ports on 127.0.0.1 failed"
    client_port="$(sed -n 1p <<<"$ports")"
    peer_port="$(sed -n 2p <<<"$ports")"
    rm -rf "$work/etcd-data"
    launch_etcd && return 0
    note "etcd did not come up on 127.0.0.1:$client_port (attempt $attempt); its log:"
    tail -n 20 "$work/etcd.log" >&2
    stop_group "$etcd_pid"
    etcd_pid=""
  done
  die "etcd did not start"
}

restart_etcd() {  # the same member, data and ports
  stop_group "$etcd_pid"
  etcd_pid=""
  launch_etcd || { tail -n 20 "$work/etcd.log" >&2; die "etcd did not restart on 127.0.0.1:$client_port"; }
}

# keel's server (unless --embedded): the same data directory and port for the whole script.
keel_cluster="$work/keel.cluster"
launch_keel() {  # starts `keel server` and waits until it answers a read
  local i
  setsid "$keel" server --data "$work/keel-data" --listen "127.0.0.1:$keel_port" --cluster-file "$keel_cluster" \
    --resp off >>"$work/keel.log" 2>&1 &
  keel_pid=$!
  for ((i = 0; i < 30; i++)); do
    "$keel" cli -C "$keel_cluster" --timeout 2 --exec "get bench/" >/dev/null 2>&1 && return 0
    kill -0 "$keel_pid" 2>/dev/null || break
    sleep 1
  done
  tail -n 20 "$work/keel.log" >&2
  return 1
}
start_keel() {  # a new server on a free loopback port, preloaded with $keys keys
  keel_port="$("$load_tool" -mode ports -count 1)" || die "finding a free port on 127.0.0.1 failed"
  launch_keel || die "keel server did not come up on 127.0.0.1:$keel_port"
  run_bounded "$load_seconds_max" "$work/keel-load.out" "$work/keel-load.err" "$keel" bench db -C "$keel_cluster" \
    --workload load --keys "$keys" --value-size "$value_bytes" --key-size 18 || die "preloading keel failed"
}
restart_keel() {  # the same server, data and port
  stop_group "$keel_pid"
  keel_pid=""
  launch_keel || die "keel server did not restart on 127.0.0.1:$keel_port"
}

# The runs, as "row-name mode clients reads-per-transaction".
runs=("point-read read 50 1" "point-read read 1 1" "point-read-x10 read 50 10"
      "point-write write 50 1" "point-write write 1 1")
# Figures per run key ("row/clients"), one value per round, space-separated.
declare -A etcd_ops etcd_p50 etcd_p99 keel_ops keel_p50 keel_p99 ratios

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }  # field NAME LINE
trim() { tr -d ' ' <<<"$1"; }

run_etcd() {  # run_etcd ROW MODE CLIENTS READS
  local row="$1" mode="$2" clients="$3" reads="$4" line errors
  restart_etcd
  run_bounded "$step_seconds_max" "$work/run.out" "$work/run.err" "$load_tool" -mode "$mode" -endpoint "$etcd_endpoint" \
    -clients "$clients" -duration "$duration_seconds" -keys "$keys" -value-size "$value_bytes" \
    -reads-per-transaction "$reads" || die "the etcd $row run failed"
  line="$(grep '^RESULT ' "$work/run.out" | tail -n 1)"
  [[ -n "$line" ]] || die "the etcd $row run printed no RESULT line"
  errors="$(field errors "$line")"
  [[ "$errors" == 0 ]] || note "etcd $row: $errors requests failed (see above); they are not counted"
  etcd_ops[$row/$clients]+=" $(field ops_per_s "$line")"
  etcd_p50[$row/$clients]+=" $(field p50_ms "$line")"
  etcd_p99[$row/$clients]+=" $(field p99_ms "$line")"
}

run_keel() {  # run_keel ROW MODE CLIENTS READS
  local row="$1" mode="$2" clients="$3" reads="$4" workload="point-$2" line ops p50 p99 server=()
  if [[ $embedded -eq 0 ]]; then
    restart_keel
    server=(-C "$keel_cluster" --no-load)
  fi
  run_bounded "$step_seconds_max" "$work/run.out" "$work/run.err" "$keel" bench db "${server[@]}" --workload "$workload" \
    --clients "$clients" --duration "$duration_seconds" --keys "$keys" --value-size "$value_bytes" \
    --key-size 18 --reads-per-transaction "$reads" || die "the keel $row run failed"
  # Its row: workload | clients | ops/s | txns/s | p50 ms | p99 ms | p99.9 ms
  line="$(grep -E "^ *$workload +\|" "$work/run.out" | tail -n 1)"
  [[ -n "$line" ]] || { cat "$work/run.out" >&2; die "the keel $row run printed no result row"; }
  IFS='|' read -r _ _ ops _ p50 p99 _ <<<"$line"
  keel_ops[$row/$clients]+=" $(trim "$ops")"
  keel_p50[$row/$clients]+=" $(trim "$p50")"
  keel_p99[$row/$clients]+=" $(trim "$p99")"
}

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'; }

start=$(date +%s)
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
start_etcd
note "etcd $etcd_version up on $etcd_endpoint; loading $keys keys"
run_bounded "$load_seconds_max" "$work/load.out" "$work/load.err" "$load_tool" -mode load -endpoint "$etcd_endpoint" \
  -keys "$keys" -value-size "$value_bytes" -timeout "$load_seconds_max" || die "preloading etcd failed"
if [[ $embedded -eq 0 ]]; then
  start_keel
  note "keel server up on 127.0.0.1:$keel_port with $keys keys"
fi
# etcd and keel take turns run by run, so that a burst of load from others on this machine falls on
# both sides of a ratio rather than on one system's whole series. etcd idles during keel's runs.
for ((round = 1; round <= rounds; round++)); do
  for run in "${runs[@]}"; do
    read -r row mode clients reads <<<"$run"
    note "round $round/$rounds, $row, $clients clients, ${duration_seconds} s each; load average $(cut -d' ' -f1 /proc/loadavg)"
    run_etcd "$row" "$mode" "$clients" "$reads"
    run_keel "$row" "$mode" "$clients" "$reads"
    k="$row/$clients"
    ratios[$k]+=" $(awk -v a="${keel_ops[$k]##* }" -v b="${etcd_ops[$k]##* }" 'BEGIN { if (b > 0) printf "%.2f", a / b }')"
  done
done
stop_group "$etcd_pid"
etcd_pid=""
if [[ -n "$keel_pid" ]]; then
  stop_group "$keel_pid"
  keel_pid=""
fi

# --- 5. The table: medians over the rounds; the ratio is the median of the rounds' ratios, each
# of an etcd run and the keel run right after it. ---------------------------------------------
echo
keel_mode="keel server + keel bench db -C, two processes"
[[ $embedded -eq 1 ]] && keel_mode="keel bench db with its embedded server, one process"
echo "KeelDB vs etcd $etcd_version (one member), measured side by side on $(nproc) cores shared by servers and load generators"
echo "keel: $keel_mode; etcd: etcd + bench/compare/etcd_load"
echo "keys: $keys x 'bench/%012d' (18 bytes), values: $value_bytes bytes, ${duration_seconds} s per run, median of $rounds round(s);" \
  "load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg); $(($(date +%s) - start)) s in all;" \
  "keel at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted src changes')"
printf '%-15s | %7s | %11s | %11s | %15s | %17s | %17s\n' workload clients "etcd ops/s" "keel ops/s" \
  "ratio keel/etcd" "etcd p50/p99 ms" "keel p50/p99 ms"
for run in "${runs[@]}"; do
  read -r row mode clients reads <<<"$run"
  k="$row/$clients"
  printf '%-15s | %7s | %11s | %11s | %15s | %17s | %17s\n' "$row" "$clients" "$(median "${etcd_ops[$k]}")" \
    "$(median "${keel_ops[$k]}")" "$(median "${ratios[$k]}")" \
    "$(median "${etcd_p50[$k]}") / $(median "${etcd_p99[$k]}")" "$(median "${keel_p50[$k]}") / $(median "${keel_p99[$k]}")"
done
if [[ $rounds -gt 1 ]]; then
  echo "per round: etcd ops/s | keel ops/s | ratio"
  for run in "${runs[@]}"; do
    read -r row mode clients reads <<<"$run"
    k="$row/$clients"
    printf '  %-15s %3s clients:%s |%s |%s\n' "$row" "$clients" "${etcd_ops[$k]}" "${keel_ops[$k]}" "${ratios[$k]}"
  done
fi

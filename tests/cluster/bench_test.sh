#!/usr/bin/env bash
# `keel bench db` with its embedded server: a bad --knob is refused with a clear message before
# anything starts, and a run with a client knob and a server knob (passed on to the embedded
# server) completes and reports its throughput, a cluster file naming an address nothing
# listens on fails with a clear error, and so does --no-load when the keys were never loaded. Bounded: every step has a timeout.
set -euo pipefail
keel=$(realpath "${1:?usage: bench_test.sh PATH_TO_KEEL}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}

expect_refused() {  # expect_refused MESSAGE ARGS...: exit status 2 and MESSAGE on stderr
  local message=$1
  shift
  set +e
  out=$(cd "$work" && timeout 30 "$keel" bench db "$@" 2>&1)
  local status=$?
  set -e
  [ $status = 2 ] || fail "bench db $* exited $status (expected 2): $out"
  grep -qF -- "$message" <<<"$out" || fail "bench db $*: no \"$message\" in: $out"
}

echo "== bad knobs"
expect_refused "--knob nope: no knob has that name" --knob nope=1
expect_refused "--knob read_batch_keys_max: 'x' is not a number" --knob read_batch_keys_max=x
expect_refused "--knob read_batch_keys_max: expected NAME=VALUE" --knob read_batch_keys_max
ls "$work" | grep -q . && fail "a refused run left files behind: $(ls "$work")"
expect_refused "--cluster-file excludes --engine" -C "$work/none.cluster" --engine ssd

echo "== --no-load of keys nobody loaded: refused, not measured as absent keys"
set +e
out=$(cd "$work" && timeout 120 "$keel" bench db --workload point-read --no-load --keys 1000 --duration 0.5 2>&1)
status=$?
set -e
[ $status = 1 ] || fail "--no-load without the keys exited $status (expected 1): $out"
grep -qF "key 0 of --keys 1000 (\`bench/0000000000') is not in the cluster: load the keys first" <<<"$out" ||
  fail "--no-load without the keys: no clear error in: $out"
grep -qE '^ *point-read \|' <<<"$out" && fail "--no-load without the keys measured: $out"

echo "== a client knob and a server knob"
out=$(cd "$work" && timeout 120 "$keel" bench db --workload point-read --keys 1000 --clients 4 --duration 0.5 \
  --knob read_batch_keys_max=1 --knob tlog_syncs_in_flight_max=1 2>&1) || fail "the run failed: $out"
row=$(grep -E '^ *point-read \|' <<<"$out") || fail "no point-read row in: $out"
ops=$(awk -F'|' '{gsub(/ /, "", $3); print $3}' <<<"$row")
[[ "$ops" =~ ^[0-9]+$ && "$ops" -gt 0 ]] || fail "no throughput in: $row"
echo "point-read: $ops ops/s"

echo "== a cluster that does not answer: a clear error, not a hang"
dead_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "keel:0123456789abcdef@127.0.0.1:$dead_port" >"$work/dead.cluster"
set +e
out=$(timeout 60 "$keel" bench db -C "$work/dead.cluster" --keys 10 --duration 0.5 2>&1)
status=$?
set -e
echo "$out"
[ $status = 1 ] || fail "bench db against a dead cluster exited $status (expected 1)"
grep -qF "timed_out (1004)" <<<"$out" || fail "no timed_out error"
grep -qF "nothing accepts connections at 127.0.0.1:$dead_port" <<<"$out" || fail "the error does not say why"

echo "PASS"

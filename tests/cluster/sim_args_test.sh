#!/usr/bin/env bash
# `keel sim` command line: a negative seed or seed range is refused with a clear message (a
# negative --seed used to wrap to the largest seed and run on through 0, 1, 2... forever), and a
# range ending at the largest seed runs exactly its seeds and exits. Bounded by timeouts.
set -euo pipefail
keel=$(realpath "${1:?usage: sim_args_test.sh PATH_TO_KEEL}")
spec="$(cd "$(dirname "$0")/.." && pwd)/sim/fast/cycle.toml"
fail() {
  echo "FAIL: $*"
  exit 1
}

# refused MESSAGE ARGS...: `keel sim SPEC ARGS...` fails and prints MESSAGE
refused() {
  local message=$1 out status=0
  shift
  out=$(timeout 30 "$keel" sim "$spec" "$@" 2>&1) || status=$?
  echo "$out"
  [ $status != 0 ] || fail "keel sim $* was accepted"
  grep -qF -- "$message" <<<"$out" || fail "keel sim $*: no \"$message\""
}

echo "== negative seeds are refused"
refused "--seed: a seed is a number from 0, got \`-1'" --seed -1
refused "--seeds wants A..B with A <= B, not '-2..3'" --seeds -2..3

echo "== a range ending at the largest seed stops there"
out=$(timeout 60 "$keel" sim "$spec" --seeds 18446744073709551614..18446744073709551615 2>&1) ||
  fail "the run failed or did not stop: $out"
echo "$out"
grep -qF "keel sim: 2 seeds passed" <<<"$out" || fail "expected exactly 2 seeds"

echo "PASS"

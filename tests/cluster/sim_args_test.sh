#!/usr/bin/env bash
# `keel sim` command line: a negative seed or seed range is refused with a clear message (a
# negative --seed used to wrap to the largest seed and run on through 0, 1, 2... forever), and a
# range ending at the largest seed runs exactly its seeds and exits. A bad option is
# invalid_option_value, a bad spec test_specification_invalid, for `keel sim` and `keel bench
# sim` alike (bench sim used to abort on an exception). Bounded by timeouts.
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
refused "invalid_option_value (2006): Option set with an invalid value: --seeds wants A..B with A <= B, not '3..1'" \
  --seeds 3..1

echo "== a bad spec is a clear error, for keel bench sim too"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo 'x = 1' >"$work/bad.toml"
for command in "sim $work/bad.toml --seed 1" "bench sim --spec $work/bad.toml --seeds 1"; do
  status=0
  # shellcheck disable=SC2086  # the command's words
  out=$(timeout 30 "$keel" $command 2>&1) || status=$?
  echo "$out"
  [ $status = 2 ] || fail "keel $command: exit status $status, not 2"
  grep -qF "test_specification_invalid (2003)" <<<"$out" || fail "keel $command: no error code"
  grep -qF "unknown setting 'x'" <<<"$out" || fail "keel $command: the problem is not named"
done
status=0
out=$(cd "$work" && timeout 30 "$keel" bench sim --seeds 1 2>&1) || status=$?
echo "$out"
[ $status = 2 ] || fail "keel bench sim outside the repository: exit status $status, not 2"
grep -qF "cannot read the spec file" <<<"$out" || fail "keel bench sim outside the repository: no message"

echo "== a range ending at the largest seed stops there"
out=$(timeout 60 "$keel" sim "$spec" --seeds 18446744073709551614..18446744073709551615 2>&1) ||
  fail "the run failed or did not stop: $out"
echo "$out"
grep -qF "keel sim: 2 seeds passed" <<<"$out" || fail "expected exactly 2 seeds"

echo "PASS"

#!/usr/bin/env bash
# A full disk, on a small tmpfs (skipped, exit 77, where this user may not mount one):
#   - a start with less than 32 MB free on the data directory's disk is refused by name
#     (disk_full), instead of failing in an engine (RocksDB aborted in its own checks);
#   - a server whose disk fills while it runs stops naming disk_full (1518) and its data
#     directory once under 32 MB are free (RocksDB aborted on the full disk before), and a
#     restart with room again has every acknowledged write.
# 127.0.0.1 only; every wait is bounded; the mount is removed and the server killed at exit.
set -euo pipefail
keel=$(realpath "${1:?usage: disk_full_test.sh PATH_TO_KEEL}")
work=$(mktemp -d "${TMPDIR:-/tmp}/keel-disk-full.XXXXXX")
disk="$work/disk"
mkdir -p "$disk"
server_pid=""
cleanup() {  # never fails: the test's own verdict is the exit status
  if [ -n "$server_pid" ]; then
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true  # a process still holding the mount keeps it busy
  fi
  umount "$disk" 2>/dev/null || umount -l "$disk" 2>/dev/null || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}
if ! mount -t tmpfs -o size=20m tmpfs "$disk" 2>/dev/null; then
  echo "SKIP: cannot mount a tmpfs here (not root?)"
  exit 77
fi
port=$((20000 + RANDOM % 20000))
wait_ready() {  # until the server answers a read (30 s at most)
  for _ in $(seq 1 60); do
    timeout 5 "$keel" cli -C "$work/c.cluster" --timeout 2 --exec "get k" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  fail "the server did not answer within 30 s: $(tail -5 "$work/server.log")"
}

echo "== a start on a disk with 20 MB is refused"
status=0
out=$(timeout 30 "$keel" server --data "$disk/data" --listen "127.0.0.1:$port" --cluster-file "$work/c.cluster" \
  --resp off 2>&1) || status=$?
echo "$out"
[ $status != 0 ] || fail "the start was accepted"
grep -q "keel server: disk_full (1518): the disk of .* needs at least 32.0 MB there to start" <<<"$out" ||
  fail "no disk_full refusal"
umount "$disk"

echo "== the disk fills while the server runs"
mount -t tmpfs -o size=48m tmpfs "$disk"
"$keel" server --data "$disk/data" --listen "127.0.0.1:$port" --cluster-file "$work/c.cluster" --resp off \
  >"$work/server.log" 2>&1 &
server_pid=$!
wait_ready
value=$(head -c 90000 /dev/zero | tr '\0' v)
acknowledged=0
for i in $(seq 1 600); do
  if timeout 20 "$keel" cli -C "$work/c.cluster" --timeout 10 --exec "writemode on; set k$i $value" >/dev/null 2>&1; then
    acknowledged=$i
  else
    break
  fi
done
echo "acknowledged $acknowledged writes of 90 kB"
for _ in $(seq 1 100); do
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$server_pid" 2>/dev/null && fail "the server still runs on a full disk"
wait "$server_pid" || true
server_pid=""
cat "$work/server.log" | tail -3
grep -q "stopped: disk_full (1518)" "$work/server.log" || fail "the server did not name disk_full"
grep -q "the data directory is $disk/data" "$work/server.log" || fail "the server did not name its data directory"
[ "$acknowledged" -gt 0 ] || fail "no write was acknowledged before the disk filled"

echo "== with room again, every acknowledged write is there"
mount -o remount,size=200m "$disk"
"$keel" server --data "$disk/data" --listen "127.0.0.1:$port" --cluster-file "$work/c.cluster" --resp off \
  >>"$work/server.log" 2>&1 &
server_pid=$!
wait_ready
for i in 1 "$acknowledged"; do
  got=$(timeout 40 "$keel" cli -C "$work/c.cluster" --timeout 30 --exec "get k$i" 2>&1) || true
  grep -q "vvvvvvvv" <<<"$got" || fail "k$i (acknowledged) is missing after the restart: ${got:0:200}"
done
echo "PASS"

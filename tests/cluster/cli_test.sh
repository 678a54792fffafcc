#!/usr/bin/env bash
# `keel cli` against a real single-process server on 127.0.0.1: round trips of every command
# (set/get/clear/clearrange/getrange/getkey, begin..commit, rollback), printable escaping of
# binary keys, the refusal of system keys and of writes without writemode, status, help, the
# interactive mode (with pauses between lines longer than the connection idle timeout) and the
# exit status of --exec, and the errors for a cluster file of another cluster or naming a Redis
# port. Bounded: every cli call has a timeout.
set -euo pipefail
keel=${1:?usage: cli_test.sh PATH_TO_KEEL}
# shellcheck source=cli_lib.sh
source "$(dirname "$0")/cli_lib.sh"

resp_port=$(free_port)
server_args=(--resp "127.0.0.1:$resp_port")
start_on_free_port "$work/server.out"
echo "server $server_pid on 127.0.0.1:$port, Redis clients on 127.0.0.1:$resp_port"
wait_ready

echo "== writemode"
expect "set a 1" 1 "ERROR: writemode_off (2151): writemode must be enabled to set or clear keys in the database (\`writemode on')."
expect "get a" 0 "\`a': not found"
expect "writemode on; set a 1; set b 2; set c 3; writemode off; set d 4" 1 \
  "ERROR: writemode_off (2151): writemode must be enabled to set or clear keys in the database (\`writemode on')."
[ "$(grep -cE '^Committed \([0-9]+\)$' <<<"$out")" = 3 ] || fail "expected three Committed (VERSION) lines"

echo "== get, getrange, getkey"
expect "get a; get b; get nope" 0 "\`a' is \`1'" "\`b' is \`2'" "\`nope': not found"
expect "getrange a c" 0 "Range limited to 25 keys" "\`a' is \`1'" "\`b' is \`2'"
grep -qF "\`c'" <<<"$out" && fail "getrange a c included c"
run_cli "getrange a \\xff 2 reverse"
[ "$out" = $'Range limited to 2 keys\n`c\' is `3\'\n`b\' is `2\'' ] || fail "getrange reverse with a limit"
expect "getrange b reverse 3" 1 "ERROR: invalid_command (2149): \`reverse' comes last (a key named reverse is written \"reverse\")"
expect "getrange \"\"" 0 "\`a' is \`1'" "\`c' is \`3'"
expect "getkey a; getkey >a; getkey >= a +2; getkey <=c -1; getkey <a" 0 \
  "Key: \`a'" "Key: \`b'" "Key: \`c'" "Key: \`b'" "Key: \`'"
expect "getkey >c" 0 "Key: \`\\xff'"
expect "getkey <\\xff" 0 "Key: \`c'"  # the last key: a selector may name the keyspace's end
expect "getkey <\\xff\\x00" 1 "ERROR: key_outside_legal_range (2004): Key outside legal range (system keys need the access_system_keys option)"

echo "== clear, clearrange"
expect "writemode on; clear b; get b; get a" 0 "\`b': not found" "\`a' is \`1'"
expect "writemode on; set b 2; clearrange a c; getrange a" 0 "\`c' is \`3'"
grep -qE "^\`(a|b)'" <<<"$out" && fail "clearrange a c left a key"
expect "writemode on; set a 1; set b 2" 0

echo "== transactions"
expect "writemode on; begin; set t1 x; set t2 y; get t1; getrange t u; commit" 0 \
  "Transaction started" "\`t1' is \`x'" "\`t2' is \`y'"
grep -qE '^Committed \([0-9]+\)$' <<<"$out" || fail "commit did not print Committed (VERSION)"
expect "get t2" 0 "\`t2' is \`y'"
expect "writemode on; begin; set r1 x; clear t1; rollback; get r1; get t1" 0 \
  "Transaction rolled back" "\`r1': not found" "\`t1' is \`x'"
expect "commit" 1 "ERROR: transaction_state_invalid (2150): No active transaction"
expect "rollback" 1 "ERROR: transaction_state_invalid (2150): No active transaction"
expect "begin; begin" 1 "ERROR: transaction_state_invalid (2150): Already in a transaction (commit or rollback first)"
expect "begin; get \\xff/x" 1 "Rolling back current transaction: its commands are refused until \`rollback' or \`commit' ends it" \
  "ERROR: key_outside_legal_range (2004): Key outside legal range (system keys need the access_system_keys option)"
# A failure inside begin...commit leaves a failed transaction: what follows it in a piped script
# must not run one command at a time (it used to commit them, each alone), until rollback or commit.
out=$(printf 'writemode on\nbegin\nset piped1 x\nget \\xff/x\nset piped2 y\ncommit\nget piped1\nget piped2\nbegin\nget \\xff/x\nrollback\nset piped3 z\n' |
  timeout 60 "$keel" cli -C "$cluster_file" 2>&1) || true
echo "$out"
grep -qF "ERROR: transaction_state_invalid (2150): The current transaction failed and was rolled back: \`rollback' or \`commit' ends it" <<<"$out" ||
  fail "a set after the failure inside the transaction was not refused"
grep -qF "ERROR: transaction_state_invalid (2150): The transaction failed and was rolled back: nothing of it was committed" <<<"$out" ||
  fail "the commit of the failed transaction did not say so"
grep -qF "\`piped1': not found" <<<"$out" || fail "piped1 (before the failure) was committed"
grep -qF "\`piped2': not found" <<<"$out" || fail "piped2 (after the failure) was committed"
grep -qF "Transaction rolled back" <<<"$out" || fail "rollback did not end the failed transaction"
[ "$(grep -cE 'Committed \([0-9]+\)$' <<<"$out")" = 1 ] || fail "expected only piped3 committed"

echo "== escaping"
expect 'writemode on; set "\x00bin\xffkey" "v\\al ue"; get "\x00bin\xffkey"' 0 "\`\\x00bin\\xffkey' is \`v\\\\al ue'"
expect 'getrange "" \x01' 0 "\`\\x00bin\\xffkey' is \`v\\\\al ue'"
expect 'writemode on; set "semi;colon key" "q\"uote"; get "semi;colon key"' 0 "\`semi;colon key' is \`q\"uote'"
expect 'writemode on; set \x01\x02 "\xfe"; get \x01\x02' 0 "\`\\x01\\x02' is \`\\xfe'"
expect 'writemode on; set \xff/system x' 1 \
  "ERROR: key_outside_legal_range (2004): Key outside legal range (system keys need the access_system_keys option)"
expect 'getrange \xff' 1 \
  "ERROR: key_outside_legal_range (2004): Key outside legal range (system keys need the access_system_keys option)"
expect 'get "unterminated' 1 "ERROR: invalid_command (2149): unterminated quoted argument (a \`\"' is missing)"
expect 'get \q' 1 "ERROR: invalid_command (2149): invalid escape \`\\q' at column 5 (use \\\\, \\\" or \\xNN)"

echo "== status, help, usage, exit status"
out=$(timeout 30 "$keel" cli -C "$work/no-such.cluster" --exec "help get" 2>&1) || fail "help needs a cluster: $out"
grep -qxF "get KEY" <<<"$out" || fail "help without a cluster file printed: $out"
expect "status" 0 "  Cluster controller     - 127.0.0.1:$port" "  Coordinators           - 127.0.0.1:$port" \
  "  sequencer  127.0.0.1:$port" "  tlog       127.0.0.1:$port" "Workers (1, 0 failed):"
grep -qE "^  Recovery state         - accepting_commits( \(last recovery took [0-9.]+ s\))?$" <<<"$out" ||
  fail "status does not show the recovery state"
grep -qE "^  Recoveries             - [0-9]+$" <<<"$out" || fail "status has no recovery count"
grep -qE "^  127\.0\.0\.1:$port +unset$" <<<"$out" || fail "status does not show the worker"
grep -qE "^  [0-9]+ +127\.0\.0\.1:$port +[0-9]+ +[0-9]+ .* rocksdb$" <<<"$out" || fail "status has no storage server line"
grep -qE "^  Live committed version - [0-9]+$" <<<"$out" || fail "status has no committed version"
grep -qE "^  Generation             - [0-9]+$" <<<"$out" || fail "status has no generation"
run_cli "status json"
python3 -c '
import json, sys
status = json.loads(sys.stdin.read())
assert status["recovery_state"] == "accepting_commits", status["recovery_state"]
servers = status["storage_servers"]
assert servers and all(s["reachable"] and s["engine"] == "rocksdb" for s in servers), servers
assert all(s["logical_bytes_written"] >= 0 and "write_amplification" in s and s["memory_budget_bytes"] > 0
           for s in servers), servers
assert any(role["role"] == "tlog" for role in status["roles"]), status["roles"]
' <<<"$out" || fail "status json is not the cluster status as JSON: $out"
expect "help" 0 "Commands:"
grep -qF "getrange BEGIN [END] [LIMIT] [reverse]" <<<"$out" || fail "help does not list getrange"
expect "help getkey" 0 "getkey [>=|>|<=|<]KEY [+N|-N]"
expect "get" 1 "ERROR: invalid_command (2149): wrong arguments for \`get'" "Usage: get KEY"
expect "get a; frobnicate; get c" 1 "\`a' is \`1'" "ERROR: invalid_command (2149): Unknown command \`frobnicate'. Try \`help'?"
grep -qF "\`c'" <<<"$out" && fail "--exec went on after a failing command"
expect "get a; quit; get c" 0 "\`a' is \`1'"
grep -qF "\`c'" <<<"$out" && fail "--exec went on after quit"

echo "== interactive"
out=$(printf 'get a\nwritemode on\nset "i k" "i v"\nget "i k"\nbogus\n' | timeout 60 "$keel" cli -C "$cluster_file" 2>&1) ||
  fail "interactive session failed"
grep -qF "keel> \`a' is \`1'" <<<"$out" || fail "interactive: no prompt and answer"
grep -qF "\`i k' is \`i v'" <<<"$out" || fail "interactive: set then get"
grep -qF "ERROR: invalid_command (2149): Unknown command \`bogus'" <<<"$out" || fail "interactive: unknown command"

echo "== pauses between lines: the session stays connected, a transaction lives 5 s"
# The server closes a connection silent for 4 s, so the cli must answer pings while it waits
# for input. A transaction paused 4.6 s commits; one paused 6 s fails with transaction_too_old.
out=$({
  echo "writemode on; begin; get paused"
  sleep 4.6
  echo "set paused 1; commit"
  sleep 6
  echo "get paused; begin; get paused"
  sleep 6
  echo "set paused 2; commit"
  echo "get paused"
} | timeout 90 "$keel" cli -C "$cluster_file" 2>&1) || fail "the paused session exited $?"
echo "$out"
[ "$(grep -cE 'Committed \([0-9]+\)$' <<<"$out")" = 1 ] || fail "the transaction paused 4.6 s did not commit"
[ "$(grep -cF "\`paused' is \`1'" <<<"$out")" = 3 ] || fail "a read after a 6 s pause did not see the commit"
grep -qF "ERROR: transaction_too_old (1007)" <<<"$out" || fail "the transaction paused 6 s did not fail as too old"
if grep -qE "timed_out|request_maybe_delivered|connection_failed" <<<"$out"; then
  fail "the session lost its connection while waiting for input"
fi

echo "== a conflict between two sessions: the interactive transaction fails to commit"
mkfifo "$work/session.in"
timeout 60 "$keel" cli -C "$cluster_file" <"$work/session.in" >"$work/session.log" 2>&1 &
session_pid=$!
server_pids+=("$session_pid")  # killed with the servers if the test fails
exec 7>"$work/session.in"
echo "writemode on; begin; get contended" >&7
for _ in $(seq 1 200); do
  grep -qF "\`contended': not found" "$work/session.log" && break
  sleep 0.05
done
grep -qF "\`contended': not found" "$work/session.log" || fail "interactive: no answer to get"
expect "writemode on; set contended theirs" 0
echo "set contended mine; commit" >&7
exec 7>&-
wait "$session_pid" || fail "interactive session exited $?"
forget_pid "$session_pid"
out=$(cat "$work/session.log")
grep -qF "ERROR: not_committed (1020)" <<<"$out" || fail "the conflicting commit did not fail with not_committed"
grep -qF "Rolling back current transaction" <<<"$out" || fail "no rollback after the failed commit"
expect "get contended" 0 "\`contended' is \`theirs'"

echo "== a cluster file of another cluster, or naming a Redis port: the error says so"
own_file=$cluster_file
cluster_id=$(sed -n 's/^keel:\([0-9a-f]*\)@.*/\1/p' "$own_file")
cluster_file="$work/other.cluster"
echo "keel:0123456789abcdef@127.0.0.1:$port" >"$cluster_file"
cli_timeout=2
run_cli "get a"
echo "$out"
[ "$status" = 1 ] || fail "a cluster file of another cluster: exit $status"
grep -qF "127.0.0.1:$port is a coordinator of cluster $cluster_id, not of cluster 0123456789abcdef" <<<"$out" ||
  fail "a cluster file of another cluster: the error does not say the ids differ"
echo "keel:$cluster_id@127.0.0.1:$resp_port" >"$cluster_file"
run_cli "get a"
echo "$out"
[ "$status" = 1 ] || fail "a cluster file naming the Redis port: exit $status"
grep -qF "127.0.0.1:$resp_port speaks the Redis protocol" <<<"$out" ||
  fail "a cluster file naming the Redis port: the error does not say so"
cluster_file=$own_file
cli_timeout=10

echo "== bad command lines"
set +e
out=$(timeout 30 "$keel" cli -C "$cluster_file" --timeout 0 --exec "get a" 2>&1)
status=$?
set -e
[ $status = 2 ] || fail "--timeout 0: exit status $status, not 2 (a usage error)"
grep -qF -- "--timeout: must be a number of seconds above 0 and at most 86400, such as 5 or 0.5; got \`0'" <<<"$out" ||
  fail "--timeout 0: no clear error: $out"
set +e
out=$(timeout 30 "$keel" frobnicate 2>&1)
status=$?
set -e
[ $status = 2 ] || fail "keel frobnicate exited $status"
grep -qF "keel: unknown command \`frobnicate' (commands: version, server, cli, echo, sim, bench; see keel --help)" <<<"$out" ||
  fail "keel frobnicate: no clear error: $out"

echo "== missing cluster file"
set +e
mkdir "$work/empty"
out=$(cd "$work/empty" && timeout 30 "$keel" cli --exec "get a" 2>&1)
status=$?
set -e
[ $status = 1 ] || fail "a missing default cluster file should fail (exit $status)"
grep -qF "ERROR: no_cluster_file_found (1515)" <<<"$out" || fail "no clear error for a missing cluster file"
grep -qF "(cluster file: keel.cluster)" <<<"$out" || fail "the error does not name the cluster file"

echo "== a garbage cluster file at --cluster-file: the start is refused (it used to say connect with it)"
echo "not a cluster file" >"$work/garbage.cluster"
set +e
out=$(timeout 30 "$keel" server --data "$work/garbage-data" --listen "127.0.0.1:$(free_port)" --resp off \
  --cluster-file "$work/garbage.cluster" 2>&1)
status=$?
set -e
echo "$out"
[ $status = 1 ] || fail "a server with a garbage cluster file started (exit $status)"
grep -qF "the existing cluster file $work/garbage.cluster is not a cluster file" <<<"$out" || fail "no clear refusal"
[ ! -e "$work/garbage-data" ] || fail "the refused start left its new data directory"

echo "PASS"

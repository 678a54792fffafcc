// CommandGroups: the runs of data commands that different connections send while the front
// end's transactions are busy share the next transaction.
//
// A run (one command, or a connection's pipelined data commands: session.h) waits here while
// `resp_groups_in_flight_max` groups are running; a finishing group starts the next one with every
// waiting run that fits its limits (`resp_group_commands_max` commands, `resp_batch_bytes_max`
// argument bytes; a run alone may fill them). A group is one transaction
// with the retry loop: its runs' handlers run in arrival order on one KeyStore, so a later run
// sees an earlier one's writes, exactly as if the runs had been served one after the other at
// the group's commit version, which lies between each command's arrival and its reply. A
// conflict re-runs the whole group. A group that fails otherwise (a key or the transaction too
// large) gives its runs back, and each session runs its own alone, so one client's bad command
// never answers another's.
//
// The sessions of a finished group come back with their next commands within moments, one by
// one; while they keep coming, a group does not start with the first of them alone
// (runtime/gathering.h: at most `resp_group_gather_fraction` of the recent groups' duration).
//
// Under load this turns many small transactions into few large ones: the proxy, the resolver,
// the logs and the storage servers then pay their per-transaction costs once per group.
//
// Groups running at once would conflict on a key they share (a hot counter's INCRs), and a
// conflict re-runs a whole group: a run that names a key of a running group (its key
// positions, as COMMAND INFO has them) waits for that group to end, and runs of other keys go
// ahead of it. Only the throughput depends on this: the resolver still checks every group.
#pragma once

#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "frontend/resp/resp_writer.h"
#include "runtime/combinators.h"
#include "runtime/future.h"
#include "runtime/gathering.h"

namespace keel {

class Session;
struct CommandSpec;
struct RespServerState;

// One connection's run of data commands and, once its group committed, their replies.
struct GroupedRun {
  Session* session = nullptr;  // alive until `done` is set: the session awaits it
  std::vector<const CommandSpec*> specs;
  std::vector<std::vector<std::string>> commands;
  size_t argument_bytes = 0;
  ReplyWriter replies;  // in the session's protocol
  Promise<bool> done;   // true: committed with `replies`; false: the session runs it alone
  bool shared = false;  // its last group held other runs too
  std::vector<size_t> key_hashes;  // of its commands' keys (CommandGroups fills it)
};

// Runs the runs' commands in one transaction with the retry loop, run after run in order, each
// run's replies rewritten on every attempt (a group of GETs and MGETs alone: plain_reads.h).
// Throws what the retry loop cannot cure, and commit_unknown_result: a commit that may have been
// applied is not run again (INCR would count twice), see answer_every_command.
Future<Void> run_together(RespServerState& server, const std::vector<GroupedRun*>& runs);
// Makes `error` the reply of every command of the run (each counted as a failed call).
void answer_every_command(RespServerState& server, GroupedRun& run, const Error& error);

class CommandGroups {
 public:
  explicit CommandGroups(RespServerState& server);
  CommandGroups(const CommandGroups&) = delete;
  CommandGroups& operator=(const CommandGroups&) = delete;

  // Runs `run` in a group: true once the group committed (replies in run->replies), false if
  // the group failed with an error a retry cannot cure.
  Future<bool> run(std::shared_ptr<GroupedRun> run);

 private:
  void start_groups();
  // Whether a key of `run` is a key of a running group.
  bool waits_for_key(const GroupedRun& run) const;
  void hold_keys(const GroupedRun& run, int change);
  Future<Void> run_group(std::vector<std::shared_ptr<GroupedRun>> group);
  Future<Void> end_gathering(uint64_t round, double deadline);

  RespServerState& server_;
  std::deque<std::shared_ptr<GroupedRun>> waiting_;
  std::unordered_map<size_t, int> held_keys_;  // key hash -> runs of running groups naming it
  int in_flight_ = 0;
  Gathering gathering_;
  uint64_t gather_round_ = 0;  // groups started: a start ends the wait of its round
  bool gather_timer_ = false;  // end_gathering(gather_round_) is pending
  double quiet_since_ = 0;     // the last run's arrival, or the start of the wait if later
  ActorCollection groups_;
};

}  // namespace keel

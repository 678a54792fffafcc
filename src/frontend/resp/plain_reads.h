// Plain reads: a command group (command_groups.h) whose commands are all GET or MGET is served
// without running each command's handler in the group's transaction. Its keys' records are read
// in one batch at one fresh read version (snapshot reads: a transaction that writes nothing has
// nothing for the resolver to check, and is serialized at its read version, which is after
// each command arrived), then every command is answered in order in one pass: no coroutine, key
// store or read conflict per command. Replies and INFO's counts are what the handlers give.
//
// Only records the answer needs nothing else for take this path: a key absent, expired or
// holding a string. Any other record (a hash: WRONGTYPE for GET; a record in no format of the
// front end's) sends the whole group back to the general path, which reads again.
#pragma once

#include <vector>

#include "runtime/future.h"

namespace keel {

struct GroupedRun;
struct RespServerState;

// Whether every command of `runs` is a GET or an MGET.
bool only_plain_reads(const std::vector<GroupedRun*>& runs);

// Answers every command of `runs` (only_plain_reads) into their replies: true; false, with
// nothing answered, when a record needs the general path. Throws what the retry loop cannot
// cure.
Future<bool> serve_plain_reads(RespServerState& server, const std::vector<GroupedRun*>& runs);

}  // namespace keel

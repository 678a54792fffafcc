// The command table: every Redis command the front end serves, with its arity, flags and key
// positions (COMMAND INFO), and the context a handler runs in.
//
// Data commands run inside one transaction (the session's retry loop calls them again on a
// conflict, so a handler must only read through `store` and write its reply to `out`, which is
// discarded on a retry). A handler checks everything that can fail before its first write, so a
// command that answers an error changes nothing (what MULTI's runtime errors rely on).
// Connection commands (flag `connection`) run outside any transaction.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/resp/keyspace.h"
#include "frontend/resp/resp_writer.h"
#include "frontend/resp/scan_cursor.h"
#include "runtime/future.h"

namespace keel {

class Session;
struct AttemptCounts;
struct RespServerState;

struct CommandContext {
  Session& session;
  RespServerState& server;
  const std::vector<std::string>& args;  // args[0]: the command name as the client sent it
  ReplyWriter& out;
  KeyStore* store = nullptr;  // data commands: the transaction's view of the keyspace
  // Data commands: what this attempt of the transaction counts (INFO stats), added once the
  // attempt answers; null: counted at once.
  AttemptCounts* attempt = nullptr;
};

using CommandHandler = Future<Void> (*)(CommandContext&);

namespace command_flags {
inline constexpr uint32_t write = 1;
inline constexpr uint32_t readonly = 2;
inline constexpr uint32_t connection = 4;  // runs outside a transaction
inline constexpr uint32_t session = 8;     // MULTI/EXEC/DISCARD/WATCH...: the session runs it, never queued
inline constexpr uint32_t fast = 16;
// Reads or clears the whole keyspace (KEYS, SCAN, DBSIZE, FLUSHALL...): never batched with
// other pipelined commands, so a batch stays far from the transaction's time limit.
inline constexpr uint32_t unbatched = 32;
// Its key lookups count in INFO's keyspace_hits and keyspace_misses: the commands whose lookups
// Redis counts (its lookupKeyRead), except SET ... GET and BITOP's sources, which count their
// own (count_lookup).
inline constexpr uint32_t lookups = 64;
}  // namespace command_flags

struct CommandSpec {
  std::string_view name;  // lower case
  int arity;              // Redis's convention: n exact, -n at least n (the name included)
  uint32_t flags;
  int first_key;  // key positions for COMMAND INFO (0: none)
  int last_key;
  int key_step;
  CommandHandler handler;
};

// nullptr when `lowercase_name` is no command.
const CommandSpec* find_command(std::string_view lowercase_name);
// Every command, ordered by name.
const std::vector<const CommandSpec*>& all_commands();
bool arity_ok(const CommandSpec& spec, size_t argument_count);
// For a command with subcommands (CONFIG GET, CLIENT SETNAME...): the error Redis answers before
// running it, or queueing it in MULTI, when the subcommand is unknown or has the wrong number of
// arguments; empty when it may run (and for every other command).
std::string subcommand_error(const CommandSpec& spec, const std::vector<std::string>& command);
// Calls `visit(key)` for each of the command's keys: its key positions, as COMMAND INFO has them.
template <class Visit>
void for_each_command_key(const CommandSpec& spec, const std::vector<std::string>& command, Visit&& visit) {
  if (spec.first_key <= 0 || spec.key_step <= 0) return;
  const auto count = static_cast<int>(command.size());
  const int last = spec.last_key < 0 ? count + spec.last_key : std::min(spec.last_key, count - 1);
  for (int i = spec.first_key; i <= last; i += spec.key_step) visit(command[static_cast<size_t>(i)]);
}
// Runs the command's handler, counting the run (INFO commandstats) and, for commands flagged
// `lookups`, their key lookups (keyspace_hits, keyspace_misses).
Future<Void> run_command(const CommandSpec& spec, CommandContext& context);
// Runs `body` as one transaction of data commands: retried after conflicts, but not after
// commit_unknown_result, which it throws (the commit may have been applied, and INCR or EXEC run
// twice would count twice); what the attempt that answers counted is added to INFO's stats.
Future<Void> run_data_transaction(RespServerState& server,
                                  std::function<Future<Void>(Transaction&, AttemptCounts&)> body);
// Counts one lookup of a key, found or not, for handlers that count their own.
void count_lookup(CommandContext& context, bool found);
// Starts reading the records of the command's keys, so the handlers of a batch find them read in
// one round. Returns how many keys the command names (a key named twice counts twice).
size_t prefetch_command_keys(KeyStore& store, const CommandSpec& spec, const std::vector<std::string>& command);

// The tables of each command family (command_table.cpp joins them).
std::vector<CommandSpec> string_commands();
std::vector<CommandSpec> bit_commands();  // SETBIT, GETBIT, BITCOUNT, BITPOS
std::vector<CommandSpec> key_commands();
std::vector<CommandSpec> hash_commands();
std::vector<CommandSpec> connection_commands();
std::vector<CommandSpec> server_commands();
std::vector<CommandSpec> transaction_commands();
std::vector<CommandSpec> introspection_commands();  // OBJECT, MEMORY
// CONFIG GET/SET/RESETSTAT/REWRITE (config_command.cpp).
Future<Void> config_command(CommandContext& context);

// Replies and helpers shared by the families. Error texts are Redis's, verbatim.
namespace resp_errors {
inline constexpr std::string_view wrong_type = "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view not_integer = "ERR value is not an integer or out of range";
inline constexpr std::string_view not_float = "ERR value is not a valid float";
inline constexpr std::string_view syntax = "ERR syntax error";
inline constexpr std::string_view overflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view nan_or_infinity = "ERR increment would produce NaN or Infinity";
inline constexpr std::string_view no_such_key = "ERR no such key";
// Redis's text up to the parenthesis, which names KeelDB's own limit (Redis names its
// proto-max-bulk-len, which here may be set above what a string can hold).
inline constexpr std::string_view string_too_long =
    "ERR string exceeds maximum allowed size (a KeelDB string holds at most 99982 bytes)";
static_assert(string_bytes_max == 99'982, "string_too_long names string_bytes_max");
}  // namespace resp_errors

std::string lowercase(std::string_view text);
bool equals_ignore_case(std::string_view a, std::string_view b);
std::string wrong_arity_error(std::string_view command_name);
// Glob matching as Redis's KEYS and SCAN MATCH (* ? [abc] [^a] [a-z] \x).
bool glob_match(std::string_view pattern, std::string_view text, bool ignore_case = false);

}  // namespace keel

namespace keel {

// Every row of `range` read in one transaction, in pages (bounded by the transaction's limits).
Future<std::vector<KeyValue>> read_whole_range(Transaction& transaction, KeyRange range);

// Writes `value` as the string `key` holds, with deadline `expire_ms` (0: none), over `old` as
// load() read it.
void put_string(CommandContext& c, const std::string& key, const KeyRecord& old, std::string value, int64_t expire_ms);

// Writes "not an integer" and returns false unless args[index] is an integer.
bool integer_argument(CommandContext& context, size_t index, int64_t& value);

// The position args[index] (a SCAN cursor) names; nullopt (error written) when it names none.
std::optional<ScanPosition> scan_position(CommandContext& context, size_t index);

// An expiry option (EX/PX/EXAT/PXAT) turned into a deadline in ms; false (error written) when
// the number is not an integer, not positive, or overflows.
bool expiry_deadline(CommandContext& context, std::string_view unit, std::string_view number, int64_t& deadline_ms);

}  // namespace keel

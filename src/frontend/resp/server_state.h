// RespServerState: what every connection of one front end shares: the database handle (a
// client of the cluster this process belongs to), the key layout, the registry of sessions
// (CLIENT LIST, INFO clients) and counters (INFO stats). Lives as long as the front end; only
// touched from the event loop.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

#include "client/database.h"
#include "frontend/resp/command_groups.h"
#include "frontend/resp/keyspace.h"
#include "frontend/resp/resp_knobs.h"
#include "frontend/resp/scan_cursor.h"
#include "world/network_address.h"

namespace keel {

class Session;
struct CommandSpec;

// One command's runs (INFO commandstats).
struct CommandCounts {
  uint64_t calls = 0;
  // From the handler's start to its end on the event loop's clock, which moves between tasks:
  // the waits for reads are in it, and a handler that never waits may add nothing.
  double seconds = 0;
  uint64_t rejected_calls = 0;  // refused before running (arguments, MULTI state)
  uint64_t failed_calls = 0;    // ran and answered an error
};

// What one attempt of a transaction counted. Added to RespStats only for the attempt that
// answers, so an attempt retried after a conflict, or a shared group run again alone after an
// error, counts once.
struct AttemptCounts {
  KeyLookupCounts lookups;
  std::vector<std::pair<const CommandSpec*, CommandCounts>> commands;
};

struct RespStats {
  uint64_t connections_received = 0;
  uint64_t connections_rejected = 0;
  uint64_t commands_processed = 0;
  uint64_t errors_replied = 0;
  KeyLookupCounts key_lookups;  // by read commands
  uint64_t expired_keys = 0;   // removed by the sweeper
  uint64_t protocol_errors = 0;
  uint64_t net_input_bytes = 0;
  uint64_t net_output_bytes = 0;
  uint64_t command_groups = 0;  // committed transactions of command_groups.h
  uint64_t grouped_runs = 0;    // the runs they served (runs / groups: how much was shared)
  uint64_t group_waits = 0;          // starts held back for the runs of finished groups
  uint64_t group_waits_expired = 0;  // of those, the waits that ran out
  uint64_t group_retries = 0;        // attempts of groups run again (a conflict, mostly)
  uint64_t group_key_waits = 0;      // runs passed over for a key of a running group
  std::unordered_map<const CommandSpec*, CommandCounts> commands;
  std::map<std::string, uint64_t> error_codes;  // error replies by code (ERR, WRONGTYPE...): INFO errorstats

  void add(const AttemptCounts& counts) {
    key_lookups.hits += counts.lookups.hits;
    key_lookups.misses += counts.lookups.misses;
    for (const auto& [spec, run] : counts.commands) add(spec, run);
  }
  // A command answered an error because its transaction failed (its handler's run, if any,
  // belonged to an attempt that does not count).
  void add_failed_call(const CommandSpec* spec) {
    CommandCounts& total = commands[spec];
    ++total.calls;
    ++total.failed_calls;
  }
  void add(const CommandSpec* spec, const CommandCounts& run) {
    CommandCounts& total = commands[spec];
    total.calls += run.calls;
    total.seconds += run.seconds;
    total.rejected_calls += run.rejected_calls;
    total.failed_calls += run.failed_calls;
  }
};

struct RespServerState {
  RespServerState(Database db, std::string prefix, NetworkAddress listen_address)
      : database(std::move(db)),
        layout(std::move(prefix)),
        address(listen_address),
        scan_cursors(static_cast<size_t>(resp_knobs().resp_scan_cursors_max),
                     static_cast<size_t>(resp_knobs().resp_scan_cursor_bytes_max)) {}

  Database database;
  KeyLayout layout;
  NetworkAddress address;
  RespStats stats;
  double start_time = 0;  // now() at start
  uint64_t next_client_id = 1;
  std::map<uint64_t, Session*> sessions;  // by client id
  size_t connections_max = 10'000;
  // CONFIG SET values of settings that are accepted and reported but change nothing here
  // (Redis's encoding thresholds, persistence settings), by name.
  std::map<std::string, std::string> config_settings;
  int64_t idle_timeout_seconds = 0;  // CONFIG SET timeout: a client idle this long is closed (0: never)
  // SCAN and HSCAN cursors of long keys and fields (scan_cursor.h).
  ScanCursorTable scan_cursors;
  // Runs of data commands of different connections sharing transactions (declared last: its
  // transactions refer to the members above).
  CommandGroups groups{*this};
};

// Milliseconds of wall time (expiry deadlines, TIME).
int64_t wall_time_ms();

}  // namespace keel

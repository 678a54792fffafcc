// Tunable settings of the Redis-protocol front end (see runtime/knobs.h; a spec or the command
// line may set them by name). Hard limits of the data model stay in protocol/limits.h.
#pragma once

namespace keel {

struct RespKnobs {
  // Longest bulk string a request may carry (Redis's proto-max-bulk-len): the value limit.
  double resp_bulk_bytes_max = 100'000;
  // Most elements in one request array.
  double resp_array_length_max = 1024 * 1024;
  // Most bytes a connection may have buffered towards one unfinished request.
  double resp_query_buffer_bytes_max = 64.0 * 1024 * 1024;
  // Replies queued but unsent beyond which a connection stops reading requests.
  double resp_reply_bytes_unsent_max = 1024 * 1024;
  // Pipelined commands of one connection that arrived together run as one transaction: at most
  // this many commands and argument bytes per batch, far from the 5 s and 10 MB transaction limits.
  double resp_batch_commands_max = 64;
  double resp_batch_bytes_max = 1024 * 1024;
  // The runs of different connections share transactions (command_groups.h): at most this many
  // such transactions run at once; runs arriving meanwhile wait and form the next one, of at
  // most resp_group_commands_max commands and resp_batch_bytes_max argument bytes (a run alone
  // may fill it). A group that writes past the 10 MB transaction limit (many commands writing
  // large values) fails at once and its runs go alone.
  double resp_groups_in_flight_max = 4;
  double resp_group_commands_max = 256;
  // While the runs of finished groups come back (command_groups.h), a group waits for them at
  // most this fraction of the recent groups' duration (0: never waits; docs/resp.md).
  double resp_group_gather_fraction = 0.25;
  // SCAN cursors of keys longer than 7 bytes the front end remembers (least recently used
  // evicted; an evicted cursor gets an error), and the bytes of their keys.
  double resp_scan_cursors_max = 100'000;
  double resp_scan_cursor_bytes_max = 64.0 * 1024 * 1024;
  // Most commands one MULTI may queue.
  double resp_multi_commands_max = 100'000;
  // The expiry sweeper: pause between rounds, and keys removed per round (one transaction).
  double resp_sweep_interval_seconds = 0.5;
  double resp_sweep_keys_max = 500;
  // FLUSHALL keeps the WATCH markers (keyspace.h) and touches those of keys it removes, up to
  // this many markers and this many bytes of their keys; past either, it removes them all
  // (every WATCH of a key that was not alive fires).
  double resp_flush_watch_markers_max = 1'000;
  double resp_flush_watch_marker_bytes_max = 1'000'000;
  // The sweeper drops WATCH markers older than this (a WATCH held longer on a key that was not
  // alive fires at EXEC).
  double resp_watch_marker_seconds = 3600;

  RespKnobs();
};

RespKnobs& resp_knobs();

}  // namespace keel

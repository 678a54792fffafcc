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
  // Most commands one MULTI may queue.
  double resp_multi_commands_max = 100'000;
  // The expiry sweeper: pause between rounds, and keys removed per round (one transaction).
  double resp_sweep_interval_seconds = 0.5;
  double resp_sweep_keys_max = 500;

  RespKnobs();
};

RespKnobs& resp_knobs();

}  // namespace keel

// Tunable settings of the RPC layer (randomized in simulation; see runtime/knobs.h).
#pragma once

namespace keel {

struct RpcKnobs {
  double connect_timeout_seconds = 2.0;
  // A connection sends a ping when it has sent nothing for this long...
  double ping_interval_seconds = 1.0;
  // ...and is closed as failed when it has received nothing for this long.
  double connection_idle_timeout_seconds = 4.0;
  double reconnect_delay_initial_seconds = 0.05;
  double reconnect_delay_max_seconds = 1.0;
  // Bytes queued for one peer beyond which senders wait (back-pressure).
  double peer_unsent_bytes_max = 64.0 * 1024 * 1024;

  RpcKnobs();
};

RpcKnobs& rpc_knobs();

}  // namespace keel

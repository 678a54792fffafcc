#include "rpc/rpc_knobs.h"

#include "runtime/knobs.h"

namespace keel {

RpcKnobs::RpcKnobs() {
  KnobRegistry& registry = knob_registry();
  registry.declare("connect_timeout_seconds", &connect_timeout_seconds, {0.5, 5.0});
  registry.declare("ping_interval_seconds", &ping_interval_seconds, {0.25, 2.0});
  registry.declare("connection_idle_timeout_seconds", &connection_idle_timeout_seconds, {2.5, 8.0});
  registry.declare("reconnect_delay_initial_seconds", &reconnect_delay_initial_seconds, {0.001, 0.5});
  registry.declare("reconnect_delay_max_seconds", &reconnect_delay_max_seconds, {0.1, 3.0});
  registry.declare("peer_unsent_bytes_max", &peer_unsent_bytes_max, {64.0 * 1024});
}

RpcKnobs& rpc_knobs() {
  static RpcKnobs knobs;
  return knobs;
}

}  // namespace keel

#include "client/client_knobs.h"

#include "runtime/knobs.h"

namespace keel {

ClientKnobs::ClientKnobs() {
  KnobRegistry& registry = knob_registry();
  registry.declare("grv_timeout_seconds", &grv_timeout_seconds, {1.0, 10.0});
  registry.declare("read_version_requests_in_flight_max", &read_version_requests_in_flight_max, {2.0, 100.0});
  registry.declare("leader_retry_delay_seconds", &leader_retry_delay_seconds, {0.005, 0.2});
  registry.declare("stale_generation_wait_seconds", &stale_generation_wait_seconds, {0.2, 3.0});
  registry.declare("proxy_retry_delay_initial_seconds", &proxy_retry_delay_initial_seconds, {0.001, 0.1});
  registry.declare("proxy_retry_delay_max_seconds", &proxy_retry_delay_max_seconds, {0.1, 3.0});
  registry.declare("storage_read_timeout_seconds", &storage_read_timeout_seconds, {1.0, 3.0});
  registry.declare("storage_unavailable_penalty_seconds", &storage_unavailable_penalty_seconds, {0.1, 5.0});
  registry.declare("read_batch_keys_max", &read_batch_keys_max, {1.0, 2.0, 7.0, 1000.0});
  registry.declare("fresh_version_reads", &fresh_version_reads, {0.0});
}

ClientKnobs& client_knobs() {
  static ClientKnobs knobs;
  return knobs;
}

namespace {
// Declared when the program starts, so the registry holds the same knobs whenever a simulation
// resets and randomizes them (a knob first declared mid-run would change the next run's draws).
[[maybe_unused]] const ClientKnobs& declared_at_start = client_knobs();
}  // namespace

}  // namespace keel

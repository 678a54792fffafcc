#include "server/coordinator/coordinator_knobs.h"

#include "runtime/knobs.h"

namespace keel {

CoordinatorKnobs::CoordinatorKnobs() {
  KnobRegistry& registry = knob_registry();
  registry.declare("leader_lease_seconds", &leader_lease_seconds, {0.5, 2.0});
  registry.declare("leader_lease_margin_seconds", &leader_lease_margin_seconds, {0.0, 0.2});
  registry.declare("candidate_timeout_seconds", &candidate_timeout_seconds, {0.6, 2.0});
  registry.declare("candidacy_interval_seconds", &candidacy_interval_seconds, {0.05, 0.3});
  registry.declare("coordinator_request_timeout_seconds", &coordinator_request_timeout_seconds, {0.3, 3.0});
  registry.declare("coordinated_read_attempts_max", &coordinated_read_attempts_max, {2, 20});
  registry.declare("coordinated_retry_delay_seconds", &coordinated_retry_delay_seconds, {0.005, 0.5});
}

CoordinatorKnobs& coordinator_knobs() {
  static CoordinatorKnobs knobs;
  return knobs;
}

}  // namespace keel

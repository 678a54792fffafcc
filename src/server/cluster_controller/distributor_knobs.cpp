#include "server/cluster_controller/distributor_knobs.h"

#include "runtime/knobs.h"

namespace keel {

DistributorKnobs::DistributorKnobs() {
  knob_registry().declare("distributor_interval_seconds", &distributor_interval_seconds, {0.25});
  knob_registry().declare("distributor_dead_server_seconds", &distributor_dead_server_seconds, {5.0, 10.0});
  knob_registry().declare("distributor_moves_max", &distributor_moves_max, {1, 4});
}

DistributorKnobs& distributor_knobs() {
  static DistributorKnobs knobs;
  return knobs;
}

}  // namespace keel

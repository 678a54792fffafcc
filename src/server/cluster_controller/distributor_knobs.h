// Tunable settings of data distribution (randomized in simulation; see runtime/knobs.h).
#pragma once

namespace keel {

struct DistributorKnobs {
  // How often the controller looks at the storage servers and the shard map.
  double distributor_interval_seconds = 1.0;
  // A storage server unreachable for this long is dead: its shards get another member.
  double distributor_dead_server_seconds = 60.0;
  // Most shards moving at once (each fetched by its new members in parallel).
  double distributor_moves_max = 16;

  DistributorKnobs();
};

DistributorKnobs& distributor_knobs();

}  // namespace keel

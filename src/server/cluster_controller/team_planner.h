// Data distribution's decisions, as pure functions of the shard map and the storage servers'
// health (docs/fault_tolerance.md, "Data distribution as built"); the controller's loop
// (data_distribution.cpp) gathers the inputs and applies the result through the core state.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "protocol/cluster_config.h"

namespace keel {

struct ServerHealth {
  Tag tag = 0;
  std::string zone;
  bool reachable = false;  // answered its last status request
  bool dead = false;       // unreachable for longer than distributor_dead_server_seconds
  bool excluded = false;   // its process is excluded (`keel cli exclude`)
};

struct DistributionPlan {
  std::vector<ShardAssignment> shards;  // the new map (the old one when nothing changes)
  int started = 0;                      // moves started or redirected
  int finished = 0;                     // moves finished (dest became the team)
  int shrunk = 0;                       // teams that only lost members
};

// Whether `tag` holds `shard` complete and durable, as of a report from a generation at or
// after the one it joined the shard in.
using HoldsShard = std::function<bool(Tag tag, const ShardAssignment& shard)>;

// The next map:
// - a moving shard whose every new member holds it finishes (dest becomes the team);
// - a moving shard whose new members include one dead or excluded is redirected;
// - a shard whose team is not `replicas` healthy members in distinct zones gets a new one:
//   its healthy members first (up to `replicas`), then the reachable, non-excluded servers in
//   zones not yet in the team with the fewest shards; failing those, its other members, so no
//   team shrinks for want of servers. A team that only loses members changes at once; one
//   that gains members starts a move (they join in `next_generation`).
// At most `moves_max` shards move at once.
DistributionPlan plan_distribution(const std::vector<ShardAssignment>& shards, const std::vector<ServerHealth>& servers,
                                   int replicas, const HoldsShard& holds, uint64_t next_generation, int moves_max);

}  // namespace keel

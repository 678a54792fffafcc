#include "server/cluster_controller/team_planner.h"

#include <algorithm>
#include <map>
#include <set>

namespace keel {
namespace {

struct Planner {
  std::map<Tag, ServerHealth> servers;
  std::map<Tag, int> load;  // shards each server gets the mutations of
  int replicas = 1;

  bool keepable(Tag tag) const {
    auto it = servers.find(tag);
    return it != servers.end() && !it->second.dead && !it->second.excluded;
  }
  bool candidate(Tag tag) const { return keepable(tag) && servers.at(tag).reachable; }
  std::string zone(Tag tag) const {
    auto it = servers.find(tag);
    return it == servers.end() ? std::string() : it->second.zone;
  }

  // The team `current` should become (see plan_distribution).
  std::vector<Tag> want(const std::vector<Tag>& current) {
    std::vector<Tag> team;
    std::set<std::string> zones;
    auto add = [&](Tag tag) {
      team.push_back(tag);
      zones.insert(zone(tag));
    };
    // Reachable members first: a team that shrinks keeps the copies it can read now.
    for (const bool reachable : {true, false}) {
      for (Tag tag : current) {
        if (static_cast<int>(team.size()) < replicas && keepable(tag) && servers.at(tag).reachable == reachable &&
            !shard_has_member(team, tag) && !zones.count(zone(tag))) {
          add(tag);
        }
      }
    }
    while (static_cast<int>(team.size()) < replicas) {
      std::optional<Tag> best;
      for (const auto& [tag, health] : servers) {
        if (!candidate(tag) || shard_has_member(team, tag) || zones.count(health.zone)) continue;
        if (!best || load[tag] < load[*best]) best = tag;
      }
      if (!best) break;
      add(*best);
      ++load[*best];
    }
    const size_t floor = std::min(static_cast<size_t>(replicas), current.size());
    for (Tag tag : current) {
      if (team.size() < floor && !shard_has_member(team, tag) && !zones.count(zone(tag))) add(tag);
    }
    return team;
  }
};

bool same_members(std::vector<Tag> a, std::vector<Tag> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

bool subset_of(const std::vector<Tag>& members, const std::vector<Tag>& team) {
  return std::all_of(members.begin(), members.end(), [&](Tag tag) { return shard_has_member(team, tag); });
}

// Drops the joined entries of servers that no longer get the shard's mutations.
void forget_leavers(ShardAssignment& shard) {
  std::erase_if(shard.joined, [&shard](const MemberSince& member) { return !shard.has(member.tag); });
}

}  // namespace

DistributionPlan plan_distribution(const std::vector<ShardAssignment>& shards, const std::vector<ServerHealth>& servers,
                                   int replicas, const HoldsShard& holds, uint64_t next_generation, int moves_max) {
  Planner planner;
  planner.replicas = replicas;
  for (const ServerHealth& server : servers) planner.servers[server.tag] = server;
  for (const ShardAssignment& shard : shards) {
    for (Tag tag : shard.receivers()) ++planner.load[tag];
  }
  DistributionPlan plan;
  plan.shards = shards;
  int moving = 0;
  // Finish first: a finished move frees a place for a new one.
  for (ShardAssignment& shard : plan.shards) {
    if (!shard.moving()) continue;
    const bool ready = std::all_of(shard.dest.begin(), shard.dest.end(), [&](Tag tag) {
      return shard_has_member(shard.tags, tag) || holds(tag, shard);
    });
    if (ready) {
      for (Tag tag : shard.tags) {
        if (!shard_has_member(shard.dest, tag)) --planner.load[tag];
      }
      shard.tags = shard.dest;
      shard.dest.clear();
      forget_leavers(shard);
      ++plan.finished;
    } else {
      ++moving;
    }
  }
  for (ShardAssignment& shard : plan.shards) {
    const bool was_moving = shard.moving();
    if (was_moving) {
      // A move goes on unless one of its new members is dead or excluded.
      const bool stuck = std::any_of(shard.dest.begin(), shard.dest.end(), [&](Tag tag) {
        return !shard_has_member(shard.tags, tag) && !planner.keepable(tag);
      });
      if (!stuck) continue;
    }
    std::vector<Tag> target = planner.want(shard.tags);
    const std::vector<Tag>& now_receiving = was_moving ? shard.dest : shard.tags;
    if (!was_moving && same_members(target, shard.tags)) continue;
    if (was_moving && same_members(target, now_receiving)) continue;
    if (subset_of(target, shard.tags)) {
      // Only members leave: no data to move.
      shard.tags = target;
      shard.dest.clear();
      forget_leavers(shard);
      ++plan.shrunk;
      if (was_moving) --moving;
      continue;
    }
    if (!was_moving && moving >= moves_max) continue;
    const std::vector<Tag> receivers = shard.receivers();
    for (Tag tag : target) {
      if (!shard_has_member(receivers, tag)) shard.joined.push_back(MemberSince{tag, next_generation});
    }
    shard.dest = target;
    forget_leavers(shard);
    ++plan.started;
    if (!was_moving) ++moving;
  }
  return plan;
}

}  // namespace keel

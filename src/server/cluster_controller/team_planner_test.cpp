#include "server/cluster_controller/team_planner.h"

#include <gtest/gtest.h>

namespace keel {
namespace {

// Servers 0..n-1, server t in zone "z<t / per_zone>", all reachable and healthy.
std::vector<ServerHealth> servers(int n, int per_zone = 1) {
  std::vector<ServerHealth> list;
  for (int t = 0; t < n; ++t) {
    list.push_back(ServerHealth{static_cast<Tag>(t), "z" + std::to_string(t / per_zone), true, false, false});
  }
  return list;
}

ShardAssignment shard(const Key& begin, const Key& end, std::vector<Tag> tags, std::vector<Tag> dest = {}) {
  ShardAssignment assignment;
  assignment.range = KeyRange{begin, end};
  assignment.tags = std::move(tags);
  assignment.dest = std::move(dest);
  return assignment;
}

const HoldsShard holds_nothing = [](Tag, const ShardAssignment&) { return false; };
const HoldsShard holds_everything = [](Tag, const ShardAssignment&) { return true; };

TEST(TeamPlanner, HealthyTeamsStay) {
  const std::vector<ShardAssignment> map{shard("", "m", {0, 1}), shard("m", "\xff\xff", {2, 3})};
  const DistributionPlan plan = plan_distribution(map, servers(4), 2, holds_nothing, 7, 16);
  EXPECT_EQ(plan.shards, map);
  EXPECT_EQ(plan.started + plan.finished + plan.shrunk, 0);
}

TEST(TeamPlanner, MoreReplicasStartMovesToTheLeastLoadedServersInNewZones) {
  const std::vector<ShardAssignment> map{shard("", "m", {0}), shard("m", "\xff\xff", {1})};
  const DistributionPlan plan = plan_distribution(map, servers(4), 2, holds_nothing, 7, 16);
  ASSERT_EQ(plan.started, 2);
  EXPECT_EQ(plan.shards[0].tags, (std::vector<Tag>{0}));
  EXPECT_EQ(plan.shards[0].dest, (std::vector<Tag>{0, 2}));
  EXPECT_EQ(plan.shards[1].dest, (std::vector<Tag>{1, 3}));  // server 2 already has one more shard
  EXPECT_EQ(plan.shards[0].joined, (std::vector<MemberSince>{{2, 7}}));
  EXPECT_EQ(plan.shards[0].joined_generation(0), 0u);
  EXPECT_EQ(plan.shards[0].joined_generation(2), 7u);
}

TEST(TeamPlanner, AMoveFinishesOnlyWhenEveryNewMemberHoldsTheShard) {
  const std::vector<ShardAssignment> map{shard("", "\xff\xff", {0}, {0, 2})};
  EXPECT_EQ(plan_distribution(map, servers(4), 2, holds_nothing, 7, 16).shards, map);
  const HoldsShard two_holds = [](Tag tag, const ShardAssignment&) { return tag == 2; };
  const DistributionPlan plan = plan_distribution(map, servers(4), 2, two_holds, 7, 16);
  EXPECT_EQ(plan.finished, 1);
  EXPECT_EQ(plan.shards[0].tags, (std::vector<Tag>{0, 2}));
  EXPECT_FALSE(plan.shards[0].moving());
}

TEST(TeamPlanner, FewerReplicasShrinkTeamsAtOnce) {
  ShardAssignment wide = shard("", "\xff\xff", {0, 1, 2});
  wide.joined = {{2, 3}};
  const DistributionPlan plan = plan_distribution({wide}, servers(3), 2, holds_nothing, 7, 16);
  EXPECT_EQ(plan.shrunk, 1);
  EXPECT_EQ(plan.shards[0].tags, (std::vector<Tag>{0, 1}));
  EXPECT_TRUE(plan.shards[0].joined.empty());  // server 2 left
}

TEST(TeamPlanner, DeadAndExcludedMembersAreReplacedInAnotherZone) {
  std::vector<ServerHealth> list = servers(6, 2);  // zones z0 {0,1}, z1 {2,3}, z2 {4,5}
  list[2].reachable = false;
  list[2].dead = true;
  list[1].excluded = true;
  const std::vector<ShardAssignment> map{shard("", "m", {0, 2}), shard("m", "\xff\xff", {1, 4})};
  const DistributionPlan plan = plan_distribution(map, list, 2, holds_nothing, 9, 16);
  ASSERT_EQ(plan.started, 2);
  // Shard 0 keeps 0 (z0) and takes the least loaded server outside z0: 3 (z1) or 5 (z2).
  EXPECT_EQ(plan.shards[0].dest.size(), 2u);
  EXPECT_EQ(plan.shards[0].dest[0], 0);
  EXPECT_NE(plan.shards[0].dest[1], 2);
  // Shard 1 keeps 4 (z2) and replaces the excluded 1 outside z2.
  EXPECT_EQ(plan.shards[1].dest[0], 4);
  EXPECT_NE(plan.shards[1].dest[1], 1);
  EXPECT_NE(plan.shards[1].dest[1], 5);
}

TEST(TeamPlanner, AnUnreachableButNotDeadMemberStays) {
  std::vector<ServerHealth> list = servers(4);
  list[1].reachable = false;
  const std::vector<ShardAssignment> map{shard("", "\xff\xff", {0, 1})};
  EXPECT_EQ(plan_distribution(map, list, 2, holds_nothing, 7, 16).shards, map);
}

TEST(TeamPlanner, AShrinkingTeamKeepsItsReachableMembers) {
  std::vector<ServerHealth> list = servers(2);
  list[0].reachable = false;  // not dead yet
  const std::vector<ShardAssignment> map{shard("", "\xff\xff", {0, 1})};
  const DistributionPlan plan = plan_distribution(map, list, 1, holds_nothing, 7, 16);
  EXPECT_EQ(plan.shrunk, 1);
  EXPECT_EQ(plan.shards[0].tags, (std::vector<Tag>{1}));
}

TEST(TeamPlanner, NoTeamShrinksForWantOfServers) {
  std::vector<ServerHealth> list = servers(2);
  list[1].reachable = false;
  list[1].dead = true;
  const std::vector<ShardAssignment> map{shard("", "\xff\xff", {0, 1})};
  EXPECT_EQ(plan_distribution(map, list, 2, holds_nothing, 7, 16).shards, map);
}

TEST(TeamPlanner, AMoveToADeadServerIsRedirected) {
  std::vector<ServerHealth> list = servers(4);
  list[2].reachable = false;
  list[2].dead = true;
  ShardAssignment moving = shard("", "\xff\xff", {0}, {0, 2});
  moving.joined = {{2, 5}};
  const DistributionPlan plan = plan_distribution({moving}, list, 2, holds_nothing, 7, 16);
  EXPECT_EQ(plan.started, 1);
  EXPECT_EQ(plan.shards[0].dest[0], 0);
  EXPECT_NE(plan.shards[0].dest[1], 2);
  EXPECT_EQ(plan.shards[0].joined.size(), 1u);
  EXPECT_EQ(plan.shards[0].joined[0].generation, 7u);
}

TEST(TeamPlanner, AtMostMovesMaxShardsMoveAtOnce) {
  std::vector<ShardAssignment> map;
  for (int i = 0; i < 6; ++i) map.push_back(shard(std::string(1, static_cast<char>('a' + i)), std::string(1, static_cast<char>('b' + i)), {0}));
  map.front().range.begin = "";
  map.back().range.end = "\xff\xff";
  DistributionPlan plan = plan_distribution(map, servers(3), 2, holds_nothing, 7, 4);
  EXPECT_EQ(plan.started, 4);
  // Once those finish, the rest start.
  plan = plan_distribution(plan.shards, servers(3), 2, holds_everything, 8, 4);
  EXPECT_EQ(plan.finished, 4);
  EXPECT_EQ(plan.started, 2);
}

}  // namespace
}  // namespace keel

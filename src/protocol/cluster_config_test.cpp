#include "protocol/cluster_config.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "runtime/error.h"

namespace keel {
namespace {

// `per_process` storage servers on each of `processes` processes, listed process by process.
std::vector<StorageLocation> storage_on(int processes, int per_process) {
  std::vector<StorageLocation> storage;
  Tag tag = 0;
  for (int p = 0; p < processes; ++p) {
    for (int i = 0; i < per_process; ++i) {
      storage.push_back(StorageLocation{RoleLocation{NetworkAddress::loopback(static_cast<uint16_t>(4500 + p)), i}, tag++, ""});
    }
  }
  return storage;
}

int error_code_of(const std::vector<StorageLocation>& storage, int replicas) {
  try {
    assign_shards(default_shard_ranges(4), storage, replicas);
  } catch (const Error& error) {
    return error.code();
  }
  return 0;
}

TEST(ClusterConfigTest, OneReplicaIsRoundRobin) {
  const std::vector<StorageLocation> storage = storage_on(3, 2);
  const std::vector<ShardAssignment> shards = assign_shards(default_shard_ranges(8), storage, 1);
  ASSERT_EQ(shards.size(), 9u);
  for (size_t i = 0; i < shards.size(); ++i) EXPECT_EQ(shards[i].tags, std::vector<Tag>{static_cast<Tag>(i % 6)});
  const ClusterConfig single = ClusterConfig::single_process(NetworkAddress::loopback(4500), 3, 4);
  EXPECT_EQ(single.storage_replicas, 1);
  EXPECT_EQ(single.shards[4].tags, std::vector<Tag>{1});
  single.validate();
}

TEST(ClusterConfigTest, TeamsSpanZonesAndSpreadEvenly) {
  for (int replicas : {2, 3}) {
    const std::vector<StorageLocation> storage = storage_on(4, 2);
    const std::vector<KeyRange> ranges = split_by_first_byte(8, keyspace_end);  // as many shards as servers
    const std::vector<ShardAssignment> shards = assign_shards(ranges, storage, replicas);
    std::map<Tag, int> teams_per_server;
    for (const ShardAssignment& shard : shards) {
      ASSERT_EQ(shard.tags.size(), static_cast<size_t>(replicas));
      std::set<NetworkAddress> addresses;
      for (Tag tag : shard.tags) {
        addresses.insert(storage[tag].location.address);
        ++teams_per_server[tag];
      }
      EXPECT_EQ(addresses.size(), static_cast<size_t>(replicas)) << describe_shards(shards);
    }
    EXPECT_EQ(teams_per_server.size(), storage.size()) << describe_shards(shards);
    for (const auto& [tag, teams] : teams_per_server) EXPECT_EQ(teams, replicas) << "tag " << tag;
    // A pure function of its inputs: the proxies compare the map with the stored one on every start.
    EXPECT_EQ(describe_shards(assign_shards(ranges, storage, replicas)), describe_shards(shards));
  }
}

TEST(ClusterConfigTest, UnevenZonesStillGetDistinctMembers) {
  std::vector<StorageLocation> storage = storage_on(1, 4);
  const std::vector<StorageLocation> more = storage_on(3, 1);
  storage.push_back(StorageLocation{more[1].location, 4, ""});
  storage.push_back(StorageLocation{more[2].location, 5, ""});
  for (const ShardAssignment& shard : assign_shards(default_shard_ranges(10), storage, 3)) {
    std::set<NetworkAddress> addresses;
    for (Tag tag : shard.tags) addresses.insert(storage[tag].location.address);
    EXPECT_EQ(addresses.size(), 3u);
  }
}

TEST(ClusterConfigTest, ReplicasBeyondTheZonesAreRejected) {
  EXPECT_EQ(error_code_of(storage_on(2, 3), 3), errc::invalid_option_value);
  EXPECT_EQ(error_code_of(storage_on(2, 3), 0), errc::invalid_option_value);
  EXPECT_EQ(error_code_of(storage_on(6, 1), storage_replicas_max + 1), errc::invalid_option_value);
  EXPECT_EQ(error_code_of(storage_on(2, 3), 2), 0);
  // Named zones: processes in one zone are one failure domain.
  std::vector<StorageLocation> storage = storage_on(3, 1);
  for (StorageLocation& location : storage) location.zone = "rack1";
  EXPECT_EQ(error_code_of(storage, 2), errc::invalid_option_value);
  storage[2].zone = "rack2";
  EXPECT_EQ(error_code_of(storage, 2), 0);
  EXPECT_EQ(zone_of(storage[0]), "rack1");
  EXPECT_EQ(zone_of(storage_on(1, 1)[0]), "127.0.0.1:4500");
}

TEST(ClusterConfigTest, ValidateChecksTheTeams) {
  ClusterConfig config;
  config.coordinators = {NetworkAddress::loopback(4500)};
  config.storage = storage_on(2, 2);
  config.storage_replicas = 2;
  config.shards = assign_shards(default_shard_ranges(4), config.storage, 2);
  config.validate();
  ClusterConfig same_process = config;
  same_process.shards[0].tags = {0, 1};  // both on 127.0.0.1:4500
  EXPECT_THROW(same_process.validate(), Error);
  ClusterConfig short_team = config;
  short_team.shards[1].tags = {2};
  EXPECT_THROW(short_team.validate(), Error);
  ClusterConfig too_many = config;
  too_many.storage_replicas = 3;
  EXPECT_THROW(too_many.validate(), Error);
}

TEST(ClusterConfigTest, ReplicationModeNames) {
  EXPECT_EQ(replication_mode_name(1), "single");
  EXPECT_EQ(replication_mode_name(2), "double");
  EXPECT_EQ(replication_mode_name(3), "triple");
  EXPECT_EQ(replication_mode_name(4), "4 replicas");
  EXPECT_EQ(replication_mode_replicas("triple"), 3);
  EXPECT_EQ(replication_mode_replicas("quadruple"), std::nullopt);
}

}  // namespace
}  // namespace keel

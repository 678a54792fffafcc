#include "cmd/static_config.h"

#include <gtest/gtest.h>

namespace keel::cmd {
namespace {

std::string error_of(const std::string& toml) {
  try {
    parse_static_config(toml, "cluster.toml");
  } catch (const ConfigError& error) {
    return error.message;
  }
  ADD_FAILURE() << "accepted " << toml;
  return "";
}

const std::string three_processes = R"(
[[process]]
address = "127.0.0.1:4500"
roles = ["sequencer", "proxy", "resolver"]
[[process]]
address = "127.0.0.1:4501"
roles = ["tlog", "resolver"]
[[process]]
address = "127.0.0.1:4502"
roles = ["storage"]
storage_servers = 2
[shards]
count = 3
)";

TEST(StaticConfigTest, CountsRolesAndDefaultsTheCoordinator) {
  const StaticConfig config = parse_static_config(three_processes, "cluster.toml");
  const ClusterConfig& cluster = config.cluster;
  ASSERT_EQ(cluster.coordinators.size(), 1u);
  EXPECT_EQ(cluster.coordinators[0], NetworkAddress::loopback(4500));
  EXPECT_EQ(cluster.proxies, 1);
  EXPECT_EQ(cluster.tlogs, 1);
  EXPECT_EQ(cluster.resolver_ranges, split_by_first_byte(2, keyspace_end));
  ASSERT_EQ(cluster.storage.size(), 2u);
  EXPECT_EQ(cluster.storage[1].location.address, NetworkAddress::loopback(4502));
  EXPECT_EQ(cluster.storage[1].location.index, 1);
  EXPECT_EQ(cluster.shards.size(), 4u);  // 3 user shards and the system shard
  EXPECT_EQ(config.process_classes.at(NetworkAddress::loopback(4500)), "unset");
  EXPECT_EQ(config.process_classes.at(NetworkAddress::loopback(4501)), "unset");
  EXPECT_EQ(config.process_classes.at(NetworkAddress::loopback(4502)), "storage");
}

TEST(StaticConfigTest, DefaultCoordinatorIsTheFirstTransactionProcess) {
  const StaticConfig config = parse_static_config(R"(
[[process]]
address = "127.0.0.1:4502"
roles = ["storage"]
[[process]]
address = "127.0.0.1:4501"
roles = ["tlog", "proxy", "resolver", "storage"]
)", "cluster.toml");
  EXPECT_EQ(config.cluster.coordinators, std::vector<NetworkAddress>{NetworkAddress::loopback(4501)});
  EXPECT_EQ(config.process_classes.at(NetworkAddress::loopback(4501)), "unset");
  EXPECT_EQ(config.cluster.resolver_ranges.size(), 1u);
  EXPECT_EQ(config.cluster.shards.size(), 5u);  // the default 4 user shards and the system shard
}

TEST(StaticConfigTest, ListedCoordinatorsAndSeveralProxiesAndLogs) {
  const StaticConfig config = parse_static_config(R"(
coordinators = ["127.0.0.1:4502", "127.0.0.1:4500", "127.0.0.1:4501"]
[[process]]
address = "127.0.0.1:4500"
roles = ["sequencer", "proxy", "resolver", "tlog"]
[[process]]
address = "127.0.0.1:4501"
roles = ["proxy", "tlog"]
[[process]]
address = "127.0.0.1:4502"
roles = ["storage"]
)", "cluster.toml");
  const std::vector<NetworkAddress> expected = {NetworkAddress::loopback(4502), NetworkAddress::loopback(4500),
                                                NetworkAddress::loopback(4501)};
  EXPECT_EQ(config.cluster.coordinators, expected);
  EXPECT_EQ(config.cluster.proxies, 2);
  EXPECT_EQ(config.cluster.tlogs, 2);
}

TEST(StaticConfigTest, RejectsInvalidConfigurations) {
  const std::string processes = R"(
[[process]]
address = "127.0.0.1:4500"
roles = ["proxy", "resolver", "tlog"]
[[process]]
address = "127.0.0.1:4501"
roles = ["storage"]
)";
  EXPECT_NE(error_of("coordinators = [\"127.0.0.1:4500\", \"127.0.0.1:4501\"]\n" + processes).find("must be odd"),
            std::string::npos);
  EXPECT_NE(error_of("coordinators = [\"127.0.0.1:4599\"]\n" + processes).find("not the address of a [[process]]"),
            std::string::npos);
  EXPECT_NE(error_of("coordinators = [\"127.0.0.1:4500\", \"127.0.0.1:4500\", \"127.0.0.1:4501\"]\n" + processes)
                .find("listed twice"),
            std::string::npos);
  EXPECT_NE(error_of("coordinators = \"127.0.0.1:4500\"\n" + processes).find("array of addresses"), std::string::npos);
  EXPECT_NE(error_of("coordinators = [\"nowhere\"]\n" + processes).find("IP:PORT"), std::string::npos);
  EXPECT_NE(error_of("sequencer = \"127.0.0.1:4500\"\n" + processes).find("unknown key 'sequencer'"),
            std::string::npos);
  EXPECT_NE(error_of(R"(
[[process]]
address = "127.0.0.1:4501"
roles = ["storage"]
)").find("at least one proxy"),
            std::string::npos);
  EXPECT_NE(error_of(R"(
[[process]]
address = "127.0.0.1:4500"
roles = ["proxy", "resolver", "tlog", "proxy", "storage"]
)").find("twice"),
            std::string::npos);
  EXPECT_NE(error_of(R"(
[[process]]
address = "127.0.0.1:4500"
roles = ["proxy", "resolver", "tlog", "log", "storage"]
)").find("unknown role 'log'"),
            std::string::npos);
  EXPECT_NE(error_of(R"(
[[process]]
address = "127.0.0.1:4500"
roles = ["proxy", "resolver", "tlog"]
storage_servers = 2
)").find("storage_servers but not the storage role"),
            std::string::npos);
  EXPECT_NE(error_of(processes + "[shards]\ncount = 0\n").find("shards.count must be"), std::string::npos);
  EXPECT_NE(error_of(processes + processes).find("listed twice"), std::string::npos);
}

const std::string two_storage_processes = R"(
[[process]]
address = "127.0.0.1:4500"
roles = ["sequencer", "proxy", "resolver", "tlog"]
[[process]]
address = "127.0.0.1:4501"
roles = ["storage"]
storage_servers = 2
[[process]]
address = "127.0.0.1:4502"
roles = ["storage"]
storage_servers = 2
)";

TEST(StaticConfigTest, SingleReplicationByDefault) {
  const ClusterConfig cluster = parse_static_config(two_storage_processes, "cluster.toml").cluster;
  EXPECT_EQ(cluster.storage_replicas, 1);
  for (size_t i = 0; i < cluster.shards.size(); ++i) {
    EXPECT_EQ(cluster.shards[i].tags, std::vector<Tag>{static_cast<Tag>(i % 4)});  // round robin, as always
  }
}

TEST(StaticConfigTest, DoubleReplicationPutsEveryShardOnBothProcesses) {
  const ClusterConfig cluster =
      parse_static_config("replication = \"double\"\n" + two_storage_processes, "cluster.toml").cluster;
  EXPECT_EQ(cluster.storage_replicas, 2);
  ASSERT_EQ(cluster.shards.size(), 5u);
  for (const ShardAssignment& shard : cluster.shards) {
    ASSERT_EQ(shard.tags.size(), 2u);
    EXPECT_NE(cluster.storage_for(shard.tags[0]).location.address, cluster.storage_for(shard.tags[1]).location.address);
  }
  // The same file gives the same shard map (the proxies check it on every start).
  const ClusterConfig again =
      parse_static_config("replication = \"double\"\n" + two_storage_processes, "cluster.toml").cluster;
  EXPECT_EQ(describe_shards(again.shards), describe_shards(cluster.shards));
}

TEST(StaticConfigTest, ReplicationNeedsEnoughZones) {
  EXPECT_NE(error_of("replication = \"triple\"\n" + two_storage_processes)
                .find("replication \"triple\" needs storage servers in 3 zones (processes, or the zones they name), "
                      "but only 2 host storage servers"),
            std::string::npos);
  EXPECT_NE(error_of("replication = \"quadruple\"\n" + two_storage_processes).find("\"single\", \"double\" or"),
            std::string::npos);
  EXPECT_NE(error_of("replication = 2\n" + two_storage_processes).find("replication must be"), std::string::npos);
  // Two processes named into one zone are one failure domain.
  std::string one_zone = two_storage_processes;
  one_zone += "zone = \"rack1\"\n";  // the last process
  const size_t first_storage = one_zone.find("storage_servers = 2\n");
  one_zone.insert(first_storage, "zone = \"rack1\"\n");
  EXPECT_NE(error_of("replication = \"double\"\n" + one_zone).find("only 1 host"), std::string::npos);
  EXPECT_EQ(parse_static_config(one_zone, "cluster.toml").cluster.storage[0].zone, "rack1");
  EXPECT_NE(error_of(two_storage_processes + "zone = \"\"\n").find("zone must be"), std::string::npos);
}

}  // namespace
}  // namespace keel::cmd

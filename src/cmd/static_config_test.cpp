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

}  // namespace
}  // namespace keel::cmd

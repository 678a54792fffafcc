#include "protocol/cluster_file.h"

#include <gtest/gtest.h>

#include "runtime/error.h"

namespace keel {
namespace {

int parse_error(std::string_view contents) {
  try {
    parse_connection_string(contents);
  } catch (const Error& error) {
    return error.code();
  }
  ADD_FAILURE() << "accepted " << contents;
  return 0;
}

TEST(ClusterFileTest, OneCoordinator) {
  const ClusterConnectionString parsed = parse_connection_string("keel:00ab12@127.0.0.1:4500\n");
  EXPECT_EQ(parsed.id, "00ab12");
  ASSERT_EQ(parsed.coordinators.size(), 1u);
  EXPECT_EQ(parsed.coordinators[0], NetworkAddress::loopback(4500));
}

TEST(ClusterFileTest, SeveralCoordinatorsInOrderWithWhitespace) {
  const ClusterConnectionString parsed =
      parse_connection_string("  keel:test_cluster-1@10.0.0.3:4500, 10.0.0.1:4501 ,10.0.0.2:4502\r\nignored\n");
  EXPECT_EQ(parsed.id, "test_cluster-1");
  ASSERT_EQ(parsed.coordinators.size(), 3u);
  EXPECT_EQ(parsed.coordinators[0].to_string(), "10.0.0.3:4500");
  EXPECT_EQ(parsed.coordinators[1].to_string(), "10.0.0.1:4501");
  EXPECT_EQ(parsed.coordinators[2].to_string(), "10.0.0.2:4502");
}

TEST(ClusterFileTest, FormatParsesBack) {
  ClusterConnectionString connection;
  connection.id = "abc";
  connection.coordinators = {NetworkAddress::loopback(1), NetworkAddress::loopback(2), NetworkAddress::loopback(3)};
  const std::string line = format_connection_string(connection);
  EXPECT_EQ(line, "keel:abc@127.0.0.1:1,127.0.0.1:2,127.0.0.1:3");
  const ClusterConnectionString parsed = parse_connection_string(line);
  EXPECT_EQ(parsed.id, connection.id);
  EXPECT_EQ(parsed.coordinators, connection.coordinators);
}

TEST(ClusterFileTest, RejectsBadInput) {
  const int invalid = errc::connection_string_invalid;
  EXPECT_EQ(parse_error(""), invalid);
  EXPECT_EQ(parse_error("127.0.0.1:4500"), invalid);
  EXPECT_EQ(parse_error("fdb:abc@127.0.0.1:4500"), invalid);
  EXPECT_EQ(parse_error("keel:@127.0.0.1:4500"), invalid);          // no id
  EXPECT_EQ(parse_error("keel:a b@127.0.0.1:4500"), invalid);       // space in the id
  EXPECT_EQ(parse_error("keel:abc@"), invalid);                     // no address
  EXPECT_EQ(parse_error("keel:abc@127.0.0.1:4500,"), invalid);      // empty address
  EXPECT_EQ(parse_error("keel:abc@example.com:4500"), invalid);
  EXPECT_EQ(parse_error("keel:abc@127.0.0.1:1,127.0.0.1:2"), invalid);  // even count
  EXPECT_EQ(parse_error("keel:abc@127.0.0.1:1,127.0.0.1:1,127.0.0.1:2"), invalid);  // twice
  EXPECT_EQ(parse_error("keel:abc@127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4,127.0.0.1:5,127.0.0.1:6,"
                        "127.0.0.1:7"),
            invalid);  // more than coordinators_max
}

TEST(ClusterFileTest, DescribesAddresses) {
  EXPECT_EQ(describe_addresses({NetworkAddress::loopback(1)}), "127.0.0.1:1");
  EXPECT_EQ(describe_addresses({NetworkAddress::loopback(1), NetworkAddress::loopback(2)}), "127.0.0.1:1, 127.0.0.1:2");
}

}  // namespace
}  // namespace keel

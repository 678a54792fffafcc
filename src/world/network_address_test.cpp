#include "world/network_address.h"

#include <gtest/gtest.h>

#include "runtime/error.h"

namespace keel {
namespace {

TEST(NetworkAddressTest, ParsesAndPrints) {
  NetworkAddress address = NetworkAddress::parse("127.0.0.1:4500");
  EXPECT_EQ(address.ip, 0x7f000001u);
  EXPECT_EQ(address.port, 4500);
  EXPECT_EQ(address.to_string(), "127.0.0.1:4500");
  EXPECT_EQ(NetworkAddress::parse("localhost:1"), NetworkAddress::loopback(1));
}

TEST(NetworkAddressTest, RejectsMalformed) {
  for (const char* text : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "1.2.3:4", "1.2.3.4.5:6",
                           "256.0.0.1:1", "a.b.c.d:1", "127.0.0.1:-1", "127.0.0.1:1x"}) {
    try {
      NetworkAddress::parse(text);
      ADD_FAILURE() << "accepted " << text;
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), errc::invalid_address) << text;
    }
  }
}

}  // namespace
}  // namespace keel

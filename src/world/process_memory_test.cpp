#include "world/process_memory.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace keel {
namespace {

TEST(ProcessMemoryTest, ByteSizesReadWithBinaryUnits) {
  EXPECT_EQ(parse_byte_size("100000000"), 100000000);
  EXPECT_EQ(parse_byte_size("1e9"), 1000000000);
  EXPECT_EQ(parse_byte_size("512MiB"), 512LL << 20);
  EXPECT_EQ(parse_byte_size("512m"), 512LL << 20);
  EXPECT_EQ(parse_byte_size("2G"), 2LL << 30);
  EXPECT_EQ(parse_byte_size("1.5GiB"), 3LL << 29);
  EXPECT_EQ(parse_byte_size("64KB"), 64LL << 10);
  EXPECT_EQ(parse_byte_size("7B"), 7);
  for (const std::string bad : {"", "MiB", "-5", "0", "12 MiB", "3X", "1MiBs", "1e30"}) {
    EXPECT_EQ(parse_byte_size(bad), std::nullopt) << bad;
  }
}

TEST(ProcessMemoryTest, ThisProcessHasALimitAndHoldsSomeMemory) {
  const int64_t limit = detect_memory_limit_bytes();
  EXPECT_GT(limit, 16LL << 20);
  std::vector<char> block(64 << 20, 1);  // touched, so resident
  EXPECT_GT(resident_anonymous_bytes(), 32LL << 20);
  EXPECT_EQ(block[12345], 1);
  block = {};
  release_free_heap();
}

}  // namespace
}  // namespace keel

#include "world/process_memory.h"

#include <gtest/gtest.h>

#include <cstdlib>
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

TEST(ProcessMemoryTest, FreedMemoryGoesBackToTheKernelWhenAsked) {
  if (heap_allocator().rfind("jemalloc", 0) != 0) {
    GTEST_SKIP() << "heap allocator: " << heap_allocator() << " (a sanitizer build keeps freed memory)";
  }
  release_free_heap();
  const int64_t before = resident_anonymous_bytes();
  {
    std::vector<std::vector<char>> blocks;
    for (int i = 0; i < 512; ++i) blocks.emplace_back(128 << 10, static_cast<char>(i));  // 64 MiB, touched
    EXPECT_GT(resident_anonymous_bytes(), before + (48LL << 20));
  }
  release_free_heap();  // jemalloc alone would keep the pages for about a minute
  EXPECT_LT(resident_anonymous_bytes(), before + (16LL << 20));
}

// A page handed back and touched again is a fault (several microseconds on a virtual machine),
// and the server's 5 s window frees and reuses memory all the time: freed pages stay a minute.
TEST(ProcessMemoryTest, FreedPagesStayAboutAMinute) {
  if (heap_allocator().rfind("jemalloc", 0) != 0) {
    GTEST_SKIP() << "heap allocator: " << heap_allocator();
  }
  if (std::getenv("MALLOC_CONF") != nullptr) GTEST_SKIP() << "MALLOC_CONF is set";
  EXPECT_EQ(heap_free_page_decay_ms(), 60000);
}

}  // namespace
}  // namespace keel

#include "storage/rocksdb/value_sizes.h"

#include <gtest/gtest.h>

#include <string>

namespace keel {
namespace {

TEST(ValueSizesTest, RecordsSizesAndAbsence) {
  ValueSizes sizes(1024 * 1024);
  EXPECT_EQ(sizes.find("a"), std::nullopt);
  sizes.record("a", 5);
  sizes.record("b", ValueSizes::absent);
  sizes.record("c", 0);
  EXPECT_EQ(sizes.find("a"), 5);
  EXPECT_EQ(sizes.find("b"), ValueSizes::absent);
  EXPECT_EQ(sizes.find("c"), 0);
  sizes.record("a", ValueSizes::absent);
  sizes.record("b", 7);
  EXPECT_EQ(sizes.find("a"), ValueSizes::absent);
  EXPECT_EQ(sizes.find("b"), 7);
  EXPECT_EQ(sizes.size(), 3u);
  sizes.clear();
  EXPECT_EQ(sizes.size(), 0u);
  EXPECT_EQ(sizes.find("b"), std::nullopt);
}

TEST(ValueSizesTest, ForgetsEverythingPastItsCapacity) {
  // Room for three one-byte keys: the fourth new key passes the capacity.
  ValueSizes sizes(3 * (1 + ValueSizes::entry_overhead_bytes));
  for (const char* key : {"a", "b", "c"}) sizes.record(key, 1);
  sizes.record("a", 2);  // an update takes no room
  EXPECT_EQ(sizes.size(), 3u);
  EXPECT_EQ(sizes.find("a"), 2);
  sizes.record("d", 1);
  EXPECT_EQ(sizes.size(), 0u);
  EXPECT_EQ(sizes.find("a"), std::nullopt);
  sizes.record("e", 4);  // and it fills again
  EXPECT_EQ(sizes.find("e"), 4);
}

TEST(ValueSizesTest, ZeroCapacityRecordsNothing) {
  ValueSizes sizes(0);
  sizes.record("a", 1);
  EXPECT_EQ(sizes.find("a"), std::nullopt);
  EXPECT_EQ(sizes.size(), 0u);
}

}  // namespace
}  // namespace keel

#include "storage/key_filter.h"

#include <gtest/gtest.h>

#include <string>

namespace keel {
namespace {

std::string key_of(int i) { return "key:" + std::to_string(i); }

TEST(KeyFilterTest, EveryKeyAddedIsFoundAcrossLayers) {
  KeyFilter filter(1024);
  constexpr int keys = 100000;
  for (int i = 0; i < keys; ++i) filter.add(key_of(i));
  EXPECT_GT(filter.layers(), 3u);  // grew from 1,024 keys
  for (int i = 0; i < keys; ++i) ASSERT_TRUE(filter.may_contain(key_of(i))) << key_of(i);
  EXPECT_LE(filter.keys(), static_cast<uint64_t>(keys));
  EXPECT_GT(filter.keys(), static_cast<uint64_t>(keys) * 95 / 100);  // a few taken for false positives
}

TEST(KeyFilterTest, FalsePositivesStayRare) {
  for (const double bits_per_key : {10.0, 16.0}) {
    KeyFilter filter(1024, bits_per_key);
    for (int i = 0; i < 100000; ++i) filter.add(key_of(i));
    int positives = 0;
    constexpr int absent = 100000;
    for (int i = 0; i < absent; ++i) positives += filter.may_contain("absent:" + std::to_string(i)) ? 1 : 0;
    // Every layer answers for itself: about 1% each at 10 bits, with 5 layers here; fewer at 16.
    EXPECT_LT(positives, bits_per_key == 10.0 ? absent * 6 / 100 : absent * 2 / 100) << bits_per_key;
    EXPECT_GT(filter.bytes(), static_cast<int64_t>(100000 * bits_per_key / 8));
  }
}

TEST(KeyFilterTest, AddingAKeyAgainDoesNotGrowTheFilter) {
  KeyFilter filter(1024);
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 1000; ++i) filter.add(key_of(i));
  }
  EXPECT_EQ(filter.layers(), 1u);
  EXPECT_LE(filter.keys(), 1000u);
}

TEST(KeyFilterTest, AnEmptyFilterHoldsNothing) {
  const KeyFilter filter;
  EXPECT_FALSE(filter.may_contain(""));
  EXPECT_FALSE(filter.may_contain("a"));
  EXPECT_EQ(filter.bytes(), 0);
}

TEST(KeyFilterTest, MergeTakesTheOtherFiltersKeys) {
  KeyFilter live(1024);
  KeyFilter scanned(50000);
  for (int i = 0; i < 3000; ++i) live.add(key_of(i));
  for (int i = 3000; i < 40000; ++i) scanned.add(key_of(i));
  const int64_t bytes = live.bytes() + scanned.bytes();
  live.merge(std::move(scanned));
  EXPECT_EQ(live.bytes(), bytes);
  for (int i = 0; i < 40000; ++i) ASSERT_TRUE(live.may_contain(key_of(i))) << key_of(i);
  live.add(key_of(40000));
  EXPECT_TRUE(live.may_contain(key_of(40000)));
}

}  // namespace
}  // namespace keel

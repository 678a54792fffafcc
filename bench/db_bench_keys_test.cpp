#include "bench/db_bench_keys.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace keel::bench {
namespace {

TEST(KeyNames, KeysHaveTheRequestedLengthAndAreDistinct) {
  for (size_t key_bytes : {size_t{16}, size_t{18}, size_t{40}}) {
    const KeyNames names(key_bytes);
    std::set<Key> seen;
    for (uint64_t i = 0; i < 100000; ++i) {
      const Key key = names.key(i);
      ASSERT_EQ(key.size(), key_bytes);
      ASSERT_EQ(key.substr(0, 6), "bench/");
      ASSERT_EQ(key.find_first_not_of("0123456789", 6), std::string::npos) << key;  // zero-padded digits
      ASSERT_TRUE(seen.insert(key).second) << key;
    }
  }
  EXPECT_EQ(KeyNames(16).key(bench_keys_max - 1).size(), 16u);
  EXPECT_EQ(KeyNames(18).key(0), "bench/000000000000");  // etcd.sh's load generator names them so
  EXPECT_EQ(KeyNames(30).key(0), "bench/" + std::string(24, '0'));  // more digits than a uint64_t has
}

TEST(KeyNames, ConsecutiveIndicesAreFarApart) {
  const KeyNames names(16);
  int in_order = 0;
  for (uint64_t i = 0; i + 1 < 1000; ++i) in_order += names.key(i) < names.key(i + 1) ? 1 : 0;
  EXPECT_GT(in_order, 200);  // not an append: about as many descents as ascents
  EXPECT_LT(in_order, 800);
}

TEST(ZipfianGenerator, StaysInRangeAndFavoursLowRanks) {
  const uint64_t items = 100000;
  const ZipfianGenerator zipfian(items, zipfian_theta_default);
  DeterministicRandom random(7);
  uint64_t rank_zero = 0, below_hundred = 0;
  const int draws = 200000;
  for (int i = 0; i < draws; ++i) {
    const uint64_t rank = zipfian.next(random);
    ASSERT_LT(rank, items);
    rank_zero += rank == 0 ? 1 : 0;
    below_hundred += rank < 100 ? 1 : 0;
  }
  // With theta 0.99 and 100,000 items, zeta is about 12.8: rank 0 gets ~7.8% of draws, the top
  // 100 about 40%.
  EXPECT_NEAR(static_cast<double>(rank_zero) / draws, 0.078, 0.01);
  EXPECT_NEAR(static_cast<double>(below_hundred) / draws, 0.40, 0.05);
}

TEST(KeyChooser, UniformCoversTheKeys) {
  const KeyChooser chooser(10, "uniform");
  DeterministicRandom random(1);
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(chooser.next_index(random));
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(*seen.rbegin(), 9u);
}

}  // namespace
}  // namespace keel::bench

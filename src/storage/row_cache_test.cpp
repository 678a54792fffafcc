// RowCache: hits return what was inserted or refreshed last, erasures leave nothing, memory
// stays within the capacity and entries not hit since they were cached go first.
#include "storage/row_cache.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace keel {
namespace {

int64_t charge(const std::string& key, size_t value_bytes) {
  return static_cast<int64_t>(key.size() + value_bytes) + RowCache::entry_overhead_bytes;
}

TEST(RowCacheTest, HitsReturnTheLastInsertedResult) {
  RowCache cache(1 << 20);
  std::optional<Value> value;
  EXPECT_FALSE(cache.find("a", &value));
  cache.insert("a", Value("1"));
  cache.insert("b", std::nullopt);
  ASSERT_TRUE(cache.find("a", &value));
  EXPECT_EQ(value, std::optional<Value>("1"));
  ASSERT_TRUE(cache.find("b", &value));
  EXPECT_EQ(value, std::nullopt);
  cache.insert("a", Value("22"));
  ASSERT_TRUE(cache.find("a", &value));
  EXPECT_EQ(value, std::optional<Value>("22"));
  EXPECT_EQ(cache.bytes(), charge("a", 2) + charge("b", 0));
  cache.erase("a");
  EXPECT_FALSE(cache.find("a", &value));
  EXPECT_EQ(cache.hits(), 3);
  EXPECT_EQ(cache.misses(), 2);
  cache.clear();
  EXPECT_FALSE(cache.find("b", &value));
  EXPECT_EQ(cache.bytes(), 0);
}

// A write leaves its result in the cache, cached before or not, without marking it as hit.
TEST(RowCacheTest, RefreshCachesWhatWasWritten) {
  RowCache cache(16 * 1024);
  std::optional<Value> value;
  cache.refresh("unread", Value("1"));
  ASSERT_TRUE(cache.find("unread", &value));
  EXPECT_EQ(value, std::optional<Value>("1"));
  cache.insert("a", Value("old"));
  cache.insert("b", std::nullopt);
  cache.refresh("a", Value("newer"));
  cache.refresh("b", Value("made"));
  ASSERT_TRUE(cache.find("a", &value));
  EXPECT_EQ(value, std::optional<Value>("newer"));
  ASSERT_TRUE(cache.find("b", &value));
  EXPECT_EQ(value, std::optional<Value>("made"));
  cache.refresh("a", std::nullopt);  // cleared: the cache now knows it is absent
  ASSERT_TRUE(cache.find("a", &value));
  EXPECT_EQ(value, std::nullopt);
  EXPECT_EQ(cache.bytes(), charge("unread", 1) + charge("a", 0) + charge("b", 4));
  cache.refresh("b", Value(2000, 'x'));  // over a sixteenth: dropped, not kept stale
  EXPECT_FALSE(cache.find("b", &value));
  EXPECT_EQ(cache.bytes(), charge("unread", 1) + charge("a", 0));
}

// Eviction passes over entries hit since they were cached, not over entries only written.
TEST(RowCacheTest, WrittenEntriesNotReadGoBeforeReadOnes) {
  RowCache cache(16 * charge("k10", 10));  // room for 16 entries, each at the largest allowed
  std::optional<Value> value;
  cache.insert("k10", Value(10, 'v'));
  ASSERT_TRUE(cache.find("k10", &value));  // hit: marked
  for (int i = 11; i < 26; ++i) cache.refresh("k" + std::to_string(i), Value(10, 'v'));
  cache.refresh("k10", Value(10, 'w'));  // written after its hit: still marked
  cache.refresh("k26", Value(10, 'v'));  // full: the oldest entry not marked, k11, goes
  EXPECT_FALSE(cache.find("k11", &value));
  ASSERT_TRUE(cache.find("k10", &value));
  EXPECT_EQ(value, std::optional<Value>(Value(10, 'w')));
  for (int i = 12; i <= 26; ++i) EXPECT_TRUE(cache.find("k" + std::to_string(i), &value)) << "k" << i;
  EXPECT_EQ(cache.size(), 16u);
}

TEST(RowCacheTest, EvictsTheOldestEntryNotHitFirst) {
  RowCache cache(16 * charge("k10", 10));  // room for 16 entries, each at the largest allowed
  for (int i = 10; i < 26; ++i) cache.insert("k" + std::to_string(i), Value(10, 'v'));
  std::optional<Value> value;
  ASSERT_TRUE(cache.find("k10", &value));  // the oldest, but hit: k11 goes instead
  cache.insert("k26", Value(10, 'v'));
  EXPECT_FALSE(cache.find("k11", &value));
  for (int i = 10; i <= 26; ++i) {
    if (i == 11) continue;
    EXPECT_TRUE(cache.find("k" + std::to_string(i), &value)) << "k" << i;
  }
  EXPECT_EQ(cache.size(), 16u);
  EXPECT_EQ(cache.bytes(), 16 * charge("k10", 10));
}

TEST(RowCacheTest, LargeEntriesAndZeroCapacityCacheNothing) {
  RowCache cache(16 * 1024);
  std::optional<Value> value;
  cache.insert("big", Value("small"));
  cache.insert("big", Value(2000, 'x'));  // over a sixteenth: the old entry goes too
  EXPECT_FALSE(cache.find("big", &value));
  EXPECT_EQ(cache.bytes(), 0);
  RowCache off(0);
  off.insert("k", Value("v"));
  EXPECT_FALSE(off.find("k", &value));
  EXPECT_EQ(off.size(), 0u);
}

// Random operations against a model of what each key's last insert or refresh was: a hit always
// agrees, and the charged bytes match the entries and stay within the capacity.
TEST(RowCacheTest, RandomOperationsAgreeWithAModel) {
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 random(seed);
    const int64_t capacity = 4000;
    RowCache cache(capacity);
    std::map<Key, std::optional<Value>> model;
    for (int step = 0; step < 20000; ++step) {
      const Key key = "key" + std::to_string(random() % 200);
      const uint32_t op = random() % 10;
      if (op < 4) {
        std::optional<Value> value;
        if (random() % 4 != 0) value = Value(random() % 200, static_cast<char>('a' + step % 26));
        cache.insert(key, value);
        model[key] = value;
      } else if (op < 5) {
        cache.erase(key);
        model.erase(key);
      } else if (op == 5 && random() % 2 == 0) {
        std::optional<Value> value;
        if (random() % 4 != 0) value = Value(random() % 300, static_cast<char>('a' + step % 26));
        cache.refresh(key, value);
        model[key] = value;
      } else if (op == 5 && random() % 50 == 0) {
        cache.clear();
        model.clear();
      } else {
        std::optional<Value> value;
        if (cache.find(key, &value)) {
          ASSERT_TRUE(model.count(key)) << key << " at step " << step;
          ASSERT_EQ(value, model[key]) << key << " at step " << step;
        }
      }
      ASSERT_LE(cache.bytes(), capacity);
    }
    int64_t cached_bytes = 0;
    for (const auto& [key, value] : model) {
      std::optional<Value> cached;
      if (cache.find(key, &cached)) cached_bytes += charge(key, cached ? cached->size() : 0);
    }
    EXPECT_EQ(cached_bytes, cache.bytes());
  }
}

}  // namespace
}  // namespace keel

// WriteOverlay against a std::map model: stacking layers must equal applying the writes in order.
#include "storage/rocksdb/rocksdb_overlay.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "runtime/random.h"
#include "storage/storage_test_support.h"

namespace keel {
namespace {

using testing::random_key;

// What the keys in `universe` read as through `layers` (oldest first) over `base`.
std::map<Key, Value> read_through(const std::map<Key, Value>& base, const std::vector<const WriteOverlay*>& layers,
                                  const std::vector<Key>& universe) {
  std::map<Key, Value> seen;
  for (const Key& key : universe) {
    std::optional<Value> value;
    if (auto it = base.find(key); it != base.end()) value = it->second;
    for (const WriteOverlay* layer : layers) {
      Value found;
      const WriteOverlay::Lookup lookup = layer->lookup(key, &found);
      if (lookup == WriteOverlay::Lookup::present) value = found;
      if (lookup == WriteOverlay::Lookup::absent) value.reset();
    }
    if (value) seen[key] = *value;
  }
  return seen;
}

TEST(WriteOverlayTest, LayersMatchAModel) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    DeterministicRandom random(seed);
    std::vector<Key> universe;
    for (int i = 0; i < 40; ++i) universe.push_back(random_key(random));
    std::map<Key, Value> base;
    for (const Key& key : universe) {
      if (random.coin(0.5)) base[key] = "base";
    }
    std::map<Key, Value> model = base;
    std::vector<WriteOverlay> layers(3);
    for (int step = 0; step < 60; ++step) {
      WriteOverlay& newest = layers.back();  // older layers are frozen, as in the engine
      const Key key = random_key(random);
      const double choice = random.random01();
      if (choice < 0.5) {
        const Value value = "v" + std::to_string(step);
        newest.set(key, value);
        model[key] = value;
      } else if (choice < 0.7) {
        newest.clear(key);
        model.erase(key);
      } else {
        Key end = random_key(random);
        newest.clear_range(KeyRange{key, end});
        if (key < end) model.erase(model.lower_bound(key), model.lower_bound(end));
      }
      if (random.coin(0.1)) {  // freeze: start a new newest layer
        layers.emplace_back();
      }
      std::vector<const WriteOverlay*> stack;
      for (const WriteOverlay& layer : layers) stack.push_back(&layer);
      ASSERT_EQ(read_through(base, stack, universe), read_through(model, {}, universe)) << "seed " << seed;
    }
    // Merging the layers into one, or slicing, changes nothing.
    WriteOverlay merged;
    for (const WriteOverlay& layer : layers) merged.apply(layer);
    ASSERT_EQ(read_through(base, {&merged}, universe), read_through(model, {}, universe)) << "seed " << seed;
    // The order list holds each point write once, sorted, as the table does.
    for (const WriteOverlay& layer : layers) {
      std::vector<Key> visited;
      layer.for_each_write([&](const WriteOverlay::Write& write) { visited.emplace_back(write.key()); });
      std::sort(visited.begin(), visited.end());
      std::vector<Key> ordered;
      for (const WriteOverlay::Write* write : layer.ordered_writes()) ordered.emplace_back(write->key());
      ASSERT_EQ(ordered, visited) << "seed " << seed;
      ASSERT_EQ(std::adjacent_find(ordered.begin(), ordered.end()), ordered.end()) << "seed " << seed;
      ASSERT_EQ(ordered.size(), layer.write_count()) << "seed " << seed;
    }
    const KeyRange range{"a", "b\xff"};
    const WriteOverlay part = merged.slice(range);
    for (const Key& key : universe) {
      Value whole_value, part_value;
      const auto whole = merged.lookup(key, &whole_value);
      const auto sliced = part.lookup(key, &part_value);
      if (range.contains(key)) {
        ASSERT_EQ(whole, sliced) << "seed " << seed;
        if (whole == WriteOverlay::Lookup::present) {
          ASSERT_EQ(whole_value, part_value);
        }
      } else {
        ASSERT_EQ(sliced, WriteOverlay::Lookup::unknown);
      }
    }
  }
}

// Range reads of a layer that keeps growing (as the engine's pending layer does), many between
// writes: the new keys are first looked through one by one, later sorted; both must find
// exactly the layer's writes in the range.
TEST(WriteOverlayTest, SlicesOfAGrowingLayerHoldItsWritesInTheRange) {
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    DeterministicRandom random(seed);
    WriteOverlay layer;
    std::map<Key, std::optional<Value>> model;  // the layer's point writes (nullopt: cleared)
    for (int step = 0; step < 300; ++step) {
      const Key key = random_key(random);
      if (random.coin(0.8)) {
        const Value value = "v" + std::to_string(step);
        layer.set(key, value);
        model[key] = value;
      } else {
        layer.clear(key);
        model[key] = std::nullopt;
      }
      const int reads = random.coin(0.2) ? random.random_int(1, 30) : 0;
      for (int read = 0; read < reads; ++read) {
        Key begin = random_key(random);
        Key end = random_key(random);
        if (end < begin) std::swap(begin, end);
        const WriteOverlay part = layer.slice(KeyRange{begin, end});
        std::map<Key, std::optional<Value>> sliced;
        part.for_each_write([&](const WriteOverlay::Write& write) { sliced[Key(write.key())] = write.value; });
        const std::map<Key, std::optional<Value>> expected(model.lower_bound(begin), model.lower_bound(end));
        ASSERT_EQ(sliced, expected) << "seed " << seed << " step " << step << " read " << read;
      }
    }
    std::vector<Key> ordered;
    for (const WriteOverlay::Write* write : layer.ordered_writes()) ordered.emplace_back(write->key());
    std::vector<Key> keys;
    for (const auto& [key, value] : model) keys.push_back(key);
    ASSERT_EQ(ordered, keys) << "seed " << seed;
  }
}

TEST(WriteOverlayTest, ClearedRangesMergeAndWritesOverrideThem) {
  WriteOverlay overlay;
  overlay.set("b", "1");
  overlay.clear_range(KeyRange{"a", "c"});
  overlay.clear_range(KeyRange{"c", "e"});  // touches: merged
  overlay.clear_range(KeyRange{"x", "w"});  // inverted: ignored
  overlay.set("d", "2");
  ASSERT_EQ(overlay.cleared().size(), 1u);
  EXPECT_EQ(overlay.cleared().begin()->first, "a");
  EXPECT_EQ(overlay.cleared().begin()->second, "e");
  Value value;
  EXPECT_EQ(overlay.lookup("b", &value), WriteOverlay::Lookup::absent);
  EXPECT_EQ(overlay.lookup("d", &value), WriteOverlay::Lookup::present);
  EXPECT_EQ(value, "2");
  EXPECT_EQ(overlay.lookup("e", &value), WriteOverlay::Lookup::unknown);
  EXPECT_FALSE(overlay.cleared_range_containing("e"));
  EXPECT_TRUE(overlay.cleared_range_containing("a"));
}

}  // namespace
}  // namespace keel

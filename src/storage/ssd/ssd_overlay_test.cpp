#include "storage/ssd/ssd_overlay.h"

#include <gtest/gtest.h>

#include <map>

#include "runtime/random.h"
#include "storage/storage_test_support.h"

namespace keel::ssd {
namespace {

using keel::testing::Model;
using keel::testing::random_key;

// Stored entries from a map, for merged_range.
class MapSource final : public EntrySource {
 public:
  MapSource(const Model& model, bool reverse) : model_(model), reverse_(reverse) {}
  void seek(const Key& key) override { it_ = model_.lower_bound(key); }
  bool valid() const override { return reverse_ ? it_ != model_.begin() : it_ != model_.end(); }
  const Key& key() const override { return reverse_ ? std::prev(it_)->first : it_->first; }
  const Value& value() const override { return reverse_ ? std::prev(it_)->second : it_->second; }
  void next() override {
    if (reverse_) --it_;
    else ++it_;
  }

 private:
  const Model& model_;
  bool reverse_;
  Model::const_iterator it_;
};

void apply_overlay(Model& model, const Overlay& overlay) {
  for (const auto& [begin, end] : overlay.clears) model.erase(model.lower_bound(begin), model.lower_bound(end));
  for (const auto& [key, value] : overlay.points) {
    if (value) model[key] = *value;
    else model.erase(key);
  }
}

TEST(SsdOverlayTest, RangeClearsCoalesce) {
  Overlay overlay;
  overlay.set("b", "1");
  overlay.clear_range(KeyRange{"a", "c"});
  overlay.clear_range(KeyRange{"c", "d"});
  overlay.clear_range(KeyRange{"x", "z"});
  overlay.clear_range(KeyRange{"b", "y"});
  EXPECT_EQ(overlay.clears, (std::map<Key, Key>{{"a", "z"}}));
  EXPECT_TRUE(overlay.points.empty());
  overlay.set("m", "2");
  const std::vector<const Overlay*> layers{&overlay};
  EXPECT_EQ(resolve(layers, "m").state, Resolution::State::present);
  EXPECT_EQ(resolve(layers, "q").state, Resolution::State::absent);
  EXPECT_EQ(resolve(layers, "zz").state, Resolution::State::unknown);
}

// Layers merged over stored data read like the model they make, in both directions and with
// every limit, whether or not the stored data already holds the oldest layers (idempotence).
TEST(SsdOverlayTest, MergedRangesMatchAModel) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    DeterministicRandom random(seed);
    Model stored;
    for (int i = 0; i < 20; ++i) stored[random_key(random)] = std::to_string(i);
    std::vector<Overlay> overlays(static_cast<size_t>(random.random_int(1, 4)));
    Model model = stored;
    for (Overlay& overlay : overlays) {
      for (int i = 0; i < 8; ++i) {
        const double choice = random.random01();
        if (choice < 0.5) overlay.set(random_key(random), "o" + std::to_string(i));
        else if (choice < 0.7) overlay.clear(random_key(random));
        else overlay.clear_range(KeyRange{random_key(random), random_key(random)});
      }
      apply_overlay(model, overlay);
    }
    // The stored data may already hold the first overlay.
    if (random.coin(0.5)) apply_overlay(stored, overlays[0]);
    std::vector<const Overlay*> newest_first;
    for (auto it = overlays.rbegin(); it != overlays.rend(); ++it) newest_first.push_back(&*it);
    for (int read = 0; read < 10; ++read) {
      const KeyRange range{random_key(random), random_key(random)};
      const bool reverse = random.coin(0.5);
      const int limit = static_cast<int>(random.random_int(0, 10));
      const size_t bytes_limit = static_cast<size_t>(random.random_int(0, 20));
      const std::vector<KeyValue> expected = keel::testing::model_range(model, range, limit, reverse, bytes_limit);
      MapSource source(stored, reverse);
      EXPECT_EQ(merged_range(newest_first, source, range, limit, reverse, bytes_limit), expected)
          << "read " << read << " reverse " << reverse << " limit " << limit;
    }
  }
}

}  // namespace
}  // namespace keel::ssd

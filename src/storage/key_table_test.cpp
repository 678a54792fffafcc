#include "storage/key_table.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "runtime/random.h"

namespace keel {
namespace {

// Inserts, lookups of present and absent keys, single and bulk erases and visits of every entry
// against a std::map, with entry addresses checked to stay put while the table grows and rebuilds and entries leave.
TEST(KeyTableTest, MatchesAMapAndEntriesNeverMove) {
  DeterministicRandom random(3);
  KeyTable<int> table;
  std::map<Key, std::pair<int, KeyTable<int>::Entry*>> model;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 2000; ++i) {
      const Key key = "key/" + std::to_string(random.random_int(0, 5000));
      auto [entry, inserted] = table.try_emplace(key);
      ASSERT_EQ(inserted, !model.contains(key)) << key;
      if (inserted) model[key] = {0, entry};
      ASSERT_EQ(entry, model[key].second) << key;
      ASSERT_EQ(entry->key(), key);
      model[key].first = ++entry->value;
    }
    for (int i = 0; i < 2000; ++i) {
      const Key key = "key/" + std::to_string(random.random_int(0, 6000));
      KeyTable<int>::Entry* entry = table.find(key);
      auto it = model.find(key);
      ASSERT_EQ(entry != nullptr, it != model.end()) << key;
      if (entry != nullptr) {
        EXPECT_EQ(entry, it->second.second);
        EXPECT_EQ(entry->value, it->second.first);
      }
    }
    for (int i = 0; i < 700; ++i) {  // one at a time, present and absent keys
      const Key key = "key/" + std::to_string(random.random_int(0, 6000));
      ASSERT_EQ(table.erase(key), model.erase(key) == 1) << key;
      ASSERT_EQ(table.find(key), nullptr) << key;
    }
    for (const auto& [key, item] : model) ASSERT_EQ(table.find(key), item.second) << key;
    std::map<Key, int> visited;
    table.for_each([&](const KeyTable<int>::Entry& entry) { ASSERT_TRUE(visited.emplace(entry.key(), entry.value).second); });
    ASSERT_EQ(visited.size(), model.size()) << "round " << round;
    for (const auto& [key, value] : visited) ASSERT_EQ(value, model.at(key).first) << key;
    const int modulus = static_cast<int>(random.random_int(2, 5));
    table.erase_if([&](const KeyTable<int>::Entry& entry) { return entry.value % modulus == 0; });
    std::erase_if(model, [&](const auto& item) { return item.second.first % modulus == 0; });
    ASSERT_EQ(table.size(), model.size()) << "round " << round;
  }
  table.erase_if([](const KeyTable<int>::Entry&) { return true; });
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.find("key/1"), nullptr);
}

// A purge of half the entries keeps the slots, so refilling them costs no rebuild; a purge that
// leaves very few shrinks them.
TEST(KeyTableTest, BulkErasesKeepTheSlotsUnlessFewEntriesAreLeft) {
  KeyTable<int> table;
  for (int i = 0; i < 4000; ++i) table.try_emplace("k" + std::to_string(i)).first->value = i;
  const size_t slots = table.slot_count();
  table.erase_if([](const KeyTable<int>::Entry& entry) { return entry.value % 2 == 0; });
  EXPECT_EQ(table.size(), 2000u);
  EXPECT_EQ(table.slot_count(), slots);
  for (int i = 0; i < 4000; i += 2) table.try_emplace("k" + std::to_string(i)).first->value = i;
  EXPECT_EQ(table.slot_count(), slots);
  table.erase_if([](const KeyTable<int>::Entry& entry) { return entry.value >= 10; });
  EXPECT_EQ(table.size(), 10u);
  EXPECT_EQ(table.slot_count(), 64u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(table.find("k" + std::to_string(i))->value, i);
}

TEST(KeyTableTest, MovesKeepTheEntries) {
  KeyTable<std::string> table;
  for (int i = 0; i < 100; ++i) table.try_emplace("k" + std::to_string(i)).first->value = std::to_string(i);
  KeyTable<std::string>::Entry* entry = table.find("k42");
  KeyTable<std::string> moved(std::move(table));
  EXPECT_EQ(moved.find("k42"), entry);
  table = std::move(moved);
  EXPECT_EQ(table.size(), 100u);
  EXPECT_EQ(table.find("k42")->value, "42");
  EXPECT_EQ(table.find("k100"), nullptr);
}

}  // namespace
}  // namespace keel

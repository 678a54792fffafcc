#include "server/storage_server/versioned_data.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/random.h"

namespace keel {
namespace {

using Known = std::optional<std::optional<Value>>;

KeyRange range(Key begin, Key end) { return KeyRange{std::move(begin), std::move(end)}; }
Known value(const char* text) { return Known(std::optional<Value>(Value(text))); }
Known cleared() { return Known(std::optional<Value>()); }
const Known unknown = std::nullopt;

std::vector<Key> written_keys(const VersionedData& data) {
  return data.keys_with_writes(range("", "\xff"), false, 100);
}

TEST(VersionedDataTest, RollbackForgetsWritesAboveTheVersionAndKeepsTheRest) {
  VersionedData data(0);
  data.set(10, "a", "a10");
  data.set(20, "b", "b20");
  data.clear_range(20, range("x", "y"));
  const size_t bytes_at_20 = data.bytes();
  data.set(30, "a", "a30");
  data.set(30, "c", "c30");
  data.clear_range(40, range("b", "bz"));
  data.set(50, "d", "d50");
  data.clear_range(50, range("d", "e"));
  data.advance_to(60);

  data.rollback(20);
  EXPECT_EQ(data.latest_version(), 20);
  EXPECT_EQ(data.oldest_version(), 0);
  EXPECT_EQ(data.get("a", 100), value("a10"));  // the write at 30 is gone, the one at 10 stays
  EXPECT_EQ(data.get("b", 100), value("b20"));  // the range clear at 40 is undone
  EXPECT_EQ(data.get("c", 100), unknown);       // written only above 20: the engine answers
  EXPECT_EQ(data.get("d", 100), unknown);       // set and cleared above 20
  EXPECT_EQ(data.get("xa", 100), cleared());    // the clear at 20 stays
  EXPECT_EQ(data.get("a", 5), unknown);
  EXPECT_EQ(written_keys(data), (std::vector<Key>{"a", "b"}));
  EXPECT_EQ(data.bytes(), bytes_at_20);
}

TEST(VersionedDataTest, AClearOfOneKeyIsAWriteOfThatKey) {
  VersionedData data(0);
  data.set(10, "a", "a10");
  data.clear_range(20, range("a", std::string("a\0", 2)));
  data.clear_range(20, range("b", std::string("b\0", 2)));  // never set in the window
  data.clear_range(20, range("m", "n"));                       // a range: not a write of m
  data.set(30, "a", "a30");
  data.set(40, "c", "c40");
  data.clear_range(40, range("c", std::string("c\0", 2)));  // within one version, in order
  data.advance_to(40);
  EXPECT_EQ(data.get("a", 15), value("a10"));
  EXPECT_EQ(data.get("a", 25), cleared());
  EXPECT_EQ(data.get("a", 35), value("a30"));
  EXPECT_EQ(data.get("b", 15), unknown);
  EXPECT_EQ(data.get("b", 25), cleared());
  EXPECT_EQ(data.get("c", 40), cleared());
  EXPECT_EQ(data.get("ma", 25), cleared());
  EXPECT_EQ(data.get(std::string("a\0", 2), 25), unknown);  // the next key is not cleared
  EXPECT_EQ(written_keys(data), (std::vector<Key>{"a", "b", "c"}));

  data.rollback(25);  // the set of a at 30 and c's writes go; the clears at 20 stay
  EXPECT_EQ(data.get("a", 100), cleared());
  EXPECT_EQ(data.get("c", 100), unknown);
  const std::vector<Mutation> durable = data.make_durable(20);
  const std::vector<Mutation> expected{{MutationType::set_value, "a", "a10"},
                                       {MutationType::clear_range, "a", std::string("a\0", 2)},
                                       {MutationType::clear_range, "b", std::string("b\0", 2)},
                                       {MutationType::clear_range, "m", "n"}};
  EXPECT_EQ(durable, expected);
  EXPECT_TRUE(written_keys(data).empty());
  EXPECT_EQ(data.bytes(), 0u);
}

TEST(VersionedDataTest, DurableStepsStayWithinTheBytesAndKeepVersionsWhole) {
  VersionedData data(0);
  data.set(10, "a", "123456789");  // 10 bytes each
  data.set(10, "b", "123456789");
  data.set(20, "c", "123456789");
  data.clear_range(30, range("d", "e"));  // 2 bytes
  data.set(40, "f", "123456789");
  data.advance_to(50);

  EXPECT_EQ(data.durable_step(50, 1000), 50);  // everything fits
  EXPECT_EQ(data.durable_step(25, 1000), 25);  // only up to the target
  EXPECT_EQ(data.durable_step(50, 32), 39);    // 10, 20 and 30 hold 32 bytes: ends before 40
  EXPECT_EQ(data.durable_step(50, 31), 29);
  EXPECT_EQ(data.durable_step(50, 25), 19);    // version 10 whole (20 bytes), then stop before 20
  EXPECT_EQ(data.durable_step(50, 5), 19);     // a version larger than the bytes goes whole
  EXPECT_EQ(data.durable_step(5, 5), 5);       // no writes up to the target

  data.make_durable(data.durable_step(50, 25));
  EXPECT_EQ(data.oldest_version(), 19);
  EXPECT_EQ(data.durable_step(50, 5), 29);
}

TEST(VersionedDataTest, RollbackUndoesEveryNewerWriteOfAKey) {
  VersionedData data(0);
  data.set(11, "k", "11");
  data.set(12, "k", "12");
  data.set(13, "k", "13");
  data.set(13, "k", "13b");
  data.rollback(11);
  EXPECT_EQ(data.get("k", 13), value("11"));
  EXPECT_EQ(data.get("k", 11), value("11"));
  data.rollback(11);  // again: nothing left to undo
  EXPECT_EQ(data.get("k", 13), value("11"));
  EXPECT_EQ(data.latest_version(), 11);
}

TEST(VersionedDataTest, RollbackToTheLatestVersionChangesNothing) {
  VersionedData data(0);
  data.set(10, "a", "a10");
  data.clear_range(15, range("a", "b"));
  data.set(15, "a", "a15");
  data.set(15, "c", "c15");
  const size_t bytes = data.bytes();
  data.rollback(15);
  EXPECT_EQ(data.latest_version(), 15);
  EXPECT_EQ(data.get("a", 15), value("a15"));
  EXPECT_EQ(data.get("a", 14), value("a10"));
  EXPECT_EQ(data.get("c", 15), value("c15"));
  EXPECT_EQ(data.bytes(), bytes);
  EXPECT_EQ(written_keys(data), (std::vector<Key>{"a", "c"}));
}

TEST(VersionedDataTest, RollbackGoesNoLowerThanTheDurableVersion) {
  VersionedData data(0);
  data.set(10, "a", "a10");
  data.set(20, "a", "a20");
  data.set(30, "b", "b30");
  EXPECT_EQ(data.make_durable(20).size(), 2u);
  data.rollback(20);  // everything left is above 20
  EXPECT_EQ(data.latest_version(), 20);
  EXPECT_EQ(data.oldest_version(), 20);
  EXPECT_EQ(data.get("a", 100), unknown);
  EXPECT_EQ(data.get("b", 100), unknown);
  EXPECT_TRUE(written_keys(data).empty());
  EXPECT_EQ(data.bytes(), 0u);
  EXPECT_TRUE(data.make_durable(20).empty());
}

// make_durable in pieces: between two pieces the window over an engine holding the pieces so
// far reads every key right at every version from oldest_version on, and handed_out() counts
// the pieces.
TEST(VersionedDataTest, PiecesReadRightOverTheEngineBetweenThem) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    DeterministicRandom random(seed);
    VersionedData data(0);
    std::map<Key, Value> engine;
    std::vector<std::pair<Version, Mutation>> history;  // every write, in order
    auto key = [&] { return "k" + std::to_string(random.random_int(0, 30)); };
    auto truth = [&](const Key& read, Version at) {
      std::optional<Value> result;
      for (const auto& [version, mutation] : history) {
        if (version > at) break;
        if (mutation.type == MutationType::set_value && mutation.param1 == read) result = mutation.param2;
        if (mutation.type == MutationType::clear_range && KeyRange{mutation.param1, mutation.param2}.contains(read)) result.reset();
      }
      return result;
    };
    auto read = [&](const Key& read, Version at) {
      if (Known known = data.get(read, at)) return *known;
      auto found = engine.find(read);
      return found == engine.end() ? std::optional<Value>() : std::optional<Value>(found->second);
    };
    Version version = 0;
    for (int round = 0; round < 20; ++round) {
      for (int i = 0; i < 40; ++i) {
        version += random.random_int(0, 2) + (i == 0 ? 1 : 0);
        if (random.coin(0.8)) {
          const Key written = key();
          const Value text = "v" + std::to_string(version) + "-" + std::to_string(i);
          data.set(version, written, text);
          history.emplace_back(version, Mutation{MutationType::set_value, written, text});
        } else {
          const KeyRange cleared = random.coin(0.5) ? single_key_range(key()) : range(key(), key());
          data.clear_range(version, cleared);
          if (!cleared.empty()) history.emplace_back(version, Mutation{MutationType::clear_range, cleared.begin, cleared.end});
        }
      }
      data.advance_to(version);
      const Version target = random.random_int(data.oldest_version(), version + 1);
      const auto piece_writes = static_cast<size_t>(random.random_int(1, 6));
      while (true) {
        const uint64_t handed_out = data.handed_out();
        const std::vector<Mutation> piece = data.make_durable(target, piece_writes);
        ASSERT_LE(piece.size(), piece_writes);
        ASSERT_EQ(data.handed_out(), handed_out + (piece.empty() ? 0 : 1)) << "seed " << seed;
        for (const Mutation& mutation : piece) {
          if (mutation.type == MutationType::set_value) {
            engine[mutation.param1] = mutation.param2;
          } else {
            engine.erase(engine.lower_bound(mutation.param1), engine.lower_bound(mutation.param2));
          }
        }
        ASSERT_EQ(data.oldest_version(), target);
        for (int check = 0; check < 30; ++check) {
          const Key checked = key();
          const Version at = random.random_int(target, version + 1);
          ASSERT_EQ(read(checked, at), truth(checked, at))
              << "seed " << seed << " round " << round << " key " << checked << " version " << at;
        }
        if (piece.size() < piece_writes) break;
      }
    }
  }
}

TEST(VersionedDataTest, WritesAfterARollbackAreOrderedAfterTheKeptOnes) {
  VersionedData data(0);
  data.set(10, "a", "a10");
  data.clear_range(20, range("a", "b"));
  data.rollback(10);
  data.set(25, "a", "a25");
  data.clear_range(30, range("", "z"));
  data.set(30, "a", "a30");
  EXPECT_EQ(data.get("a", 24), value("a10"));
  EXPECT_EQ(data.get("a", 29), value("a25"));
  EXPECT_EQ(data.get("a", 30), value("a30"));
  EXPECT_EQ(data.get("q", 30), cleared());
  // The engine gets the kept write and the new ones, in order, and not the undone clear.
  const std::vector<Mutation> durable = data.make_durable(30);
  ASSERT_EQ(durable.size(), 4u);
  EXPECT_EQ(durable[0], (Mutation{MutationType::set_value, "a", "a10"}));
  EXPECT_EQ(durable[1], (Mutation{MutationType::set_value, "a", "a25"}));
  EXPECT_EQ(durable[2], (Mutation{MutationType::clear_range, "", "z"}));
  EXPECT_EQ(durable[3], (Mutation{MutationType::set_value, "a", "a30"}));
}

// A key written at every version, handed to the engine a few writes at a time (its history's
// taken slots are reclaimed along the way), still reads right at every version in the window.
TEST(VersionedDataTest, AHotKeyReadsRightWhileItsOldestWritesGo) {
  VersionedData data(0);
  Version latest = 0;
  Version durable = 0;
  for (int step = 0; step < 300; ++step) {
    for (int i = 0; i < 7; ++i) {
      ++latest;
      data.set(latest, "hot", "v" + std::to_string(latest));
    }
    data.advance_to(latest);
    const std::vector<Mutation> handed = data.make_durable(durable + 5);
    ASSERT_EQ(handed.size(), 5u);
    EXPECT_EQ(handed.back().param2, "v" + std::to_string(durable + 5));
    durable += 5;
    for (Version version = durable + 1; version <= latest; ++version) {
      ASSERT_EQ(data.get("hot", version), value(("v" + std::to_string(version)).c_str())) << "version " << version;
    }
    ASSERT_EQ(data.get("hot", durable), unknown);
  }
  data.rollback(durable + 1);
  EXPECT_EQ(data.get("hot", latest), value(("v" + std::to_string(durable + 1)).c_str()));
  EXPECT_EQ(data.make_durable(durable + 1).size(), 1u);
  EXPECT_EQ(data.get("hot", durable + 1), unknown);
}

// Histories emptied by the engine's steps go once they are as many as the rest; the key order
// keeps the others, and a key written again after its history went is found again.
TEST(VersionedDataTest, EmptiedHistoriesAreDropped) {
  VersionedData data(0);
  for (int i = 1; i <= 2000; ++i) data.set(i, "k" + std::to_string(10'000 + i), "v");
  data.advance_to(2000);
  EXPECT_EQ(written_keys(data).size(), 100u);  // every key in the key order
  data.make_durable(1500);
  const std::vector<Key> left = data.keys_with_writes(range("", "\xff"), false, 1000);
  ASSERT_EQ(left.size(), 500u);
  EXPECT_EQ(left.front(), "k11501");
  EXPECT_EQ(left.back(), "k12000");
  EXPECT_EQ(data.get("k10001", 2000), unknown);
  data.set(2001, "k10001", "again");
  EXPECT_EQ(data.get("k10001", 2001), value("again"));
  EXPECT_EQ(data.keys_with_writes(range("", "\xff"), false, 1).front(), "k10001");
}

// Range reads of a part of the keyspace no new key is in leave the new keys unsorted; reads that
// reach them still find every one, also after emptied histories were purged meanwhile.
TEST(VersionedDataTest, RangeReadsElsewhereStillLeaveEveryKeyFound) {
  VersionedData data(0);
  for (int i = 1; i <= 3000; ++i) {
    data.set(i, "k" + std::to_string(10'000 + i), "v");
    EXPECT_TRUE(data.keys_with_writes(range("x", "y"), i % 2 == 0, 10).empty());
    EXPECT_TRUE(data.keys_with_writes(range("a", "k1"), false, 10).empty());
  }
  data.advance_to(3000);
  data.make_durable(2000);  // 2000 histories empty: purged
  data.set(3001, "a", "first");
  data.set(3002, "z", "last");
  EXPECT_EQ(data.keys_with_writes(range("x", "y"), false, 10), std::vector<Key>{});
  EXPECT_EQ(data.keys_with_writes(range("", "k"), false, 10), std::vector<Key>{"a"});
  const std::vector<Key> all = data.keys_with_writes(range("", "\xff"), false, 5000);
  ASSERT_EQ(all.size(), 1002u);
  EXPECT_EQ(all[1], "k12001");
  EXPECT_EQ(all[1000], "k13000");
  EXPECT_EQ(data.keys_with_writes(range("k", "\xff"), true, 2), (std::vector<Key>{"z", "k13000"}));
}

// --- Randomized comparison with a brute-force model --------------------------------------------

// Every write of the window in arrival order, as the mutation the engine will get.
class ModelVersionedData {
 public:
  void write(Version version, Mutation mutation) { writes_.push_back({version, std::move(mutation)}); }

  Known get(const Key& key, Version version) const {
    for (auto it = writes_.rbegin(); it != writes_.rend(); ++it) {
      if (it->first > version) continue;
      const Mutation& mutation = it->second;
      if (mutation.type == MutationType::set_value && mutation.param1 == key) return value(mutation.param2.c_str());
      if (mutation.type == MutationType::clear_range && KeyRange{mutation.param1, mutation.param2}.contains(key)) {
        return cleared();
      }
    }
    return unknown;
  }

  // Keys set or cleared alone in the window.
  std::vector<Key> keys_with_writes(const KeyRange& range, bool reverse, size_t limit) const {
    std::set<Key> keys;
    for (const auto& [version, mutation] : writes_) {
      if (!range.contains(mutation.param1)) continue;
      if (mutation.type == MutationType::set_value || mutation.param2 == key_after(mutation.param1)) {
        keys.insert(mutation.param1);
      }
    }
    std::vector<Key> result(keys.begin(), keys.end());
    if (reverse) std::reverse(result.begin(), result.end());
    if (result.size() > limit) result.resize(limit);
    return result;
  }

  std::vector<Mutation> make_durable(Version version) {
    std::vector<Mutation> result;
    while (!writes_.empty() && writes_.front().first <= version) {
      result.push_back(writes_.front().second);
      writes_.pop_front();
    }
    return result;
  }

  void rollback(Version version) {
    while (!writes_.empty() && writes_.back().first > version) writes_.pop_back();
  }

 private:
  std::deque<std::pair<Version, Mutation>> writes_;
};

// Sets, clears of one key and of ranges, reads at random versions of the window, range reads
// both ways, steps to the engine and rollbacks, over enough keys that histories empty by the
// thousand and are purged while the key order is in use.
TEST(VersionedDataTest, MatchesModel) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    DeterministicRandom random(seed);
    VersionedData data(0);
    ModelVersionedData model;
    const int keys = seed == 1 ? 5000 : 40;
    auto key = [&] { return "k" + std::to_string(random.random_int(0, keys)); };
    Version version = 0;
    for (int step = 0; step < 30'000; ++step) {
      const double kind = random.random01();
      if (kind < 0.3) {
        version += random.random_int(0, 3);
        if (version == data.oldest_version()) ++version;
        const Key written = key();
        const Value text = "v" + std::to_string(step);
        data.set(version, written, text);
        model.write(version, Mutation{MutationType::set_value, written, text});
      } else if (kind < 0.4) {
        version = std::max(version + random.random_int(0, 3), data.oldest_version() + 1);
        KeyRange cleared = random.coin(0.6) ? single_key_range(key()) : range(key(), key());
        data.clear_range(version, cleared);
        if (!cleared.empty()) model.write(version, Mutation{MutationType::clear_range, cleared.begin, cleared.end});
      } else if (kind < 0.7) {
        const Version at = random.random_int(data.oldest_version(), version + 2);
        const Key read = key();
        ASSERT_EQ(data.get(read, at), model.get(read, at)) << "seed " << seed << " step " << step << " key " << read;
      } else if (kind < 0.8) {
        const KeyRange read = range(key(), key());
        const bool reverse = random.coin(0.5);
        const auto limit = static_cast<size_t>(random.random_int(1, 50));
        ASSERT_EQ(data.keys_with_writes(read, reverse, limit), model.keys_with_writes(read, reverse, limit))
            << "seed " << seed << " step " << step;
      } else if (kind < 0.95) {
        data.advance_to(version);
        // Small steps, so the window holds hundreds of writes when histories are purged.
        const Version durable = random.random_int(data.oldest_version(), data.oldest_version() + (version - data.oldest_version()) / 8 + 1);
        ASSERT_EQ(data.make_durable(durable), model.make_durable(durable)) << "seed " << seed << " step " << step;
      } else {
        data.advance_to(version);
        version = random.random_int(data.oldest_version(), version + 1);
        data.rollback(version);
        model.rollback(version);
      }
    }
  }
}

}  // namespace
}  // namespace keel

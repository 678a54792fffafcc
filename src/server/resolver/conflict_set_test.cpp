#include "server/resolver/conflict_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace keel {
namespace {

using namespace std::string_literals;
using Outcomes = std::vector<ConflictOutcome>;
constexpr ConflictOutcome committed = ConflictOutcome::committed;
constexpr ConflictOutcome conflict = ConflictOutcome::conflict;
constexpr ConflictOutcome too_old = ConflictOutcome::too_old;

KeyRange range(Key begin, Key end) { return KeyRange{std::move(begin), std::move(end)}; }

ConflictTransaction reader(Version read_version, std::vector<KeyRange> reads) {
  return ConflictTransaction{read_version, std::move(reads), {}};
}

ConflictTransaction writer(Version read_version, std::vector<KeyRange> writes) {
  return ConflictTransaction{read_version, {}, std::move(writes)};
}

TEST(ConflictSetTest, ReadOfANewerWriteConflicts) {
  ConflictSet set(0);
  EXPECT_EQ(set.resolve(10, {writer(5, {range("b", "c")})}), Outcomes{committed});
  EXPECT_EQ(set.resolve(20, {reader(9, {range("a", "bb")}), reader(9, {single_key_range("b")}),
                             reader(9, {range("bz", "z")})}),
            (Outcomes{conflict, conflict, conflict}));
  set.check_invariants();
}

TEST(ConflictSetTest, WriteAtOrBeforeTheReadVersionDoesNotConflict) {
  ConflictSet set(0);
  set.resolve(10, {writer(5, {range("b", "c")})});
  EXPECT_EQ(set.resolve(20, {reader(10, {range("a", "z")}), reader(15, {range("b", "c")})}),
            (Outcomes{committed, committed}));
}

TEST(ConflictSetTest, AdjacentRangesDoNotConflict) {
  ConflictSet set(0);
  set.resolve(10, {writer(5, {range("b", "c")})});
  EXPECT_EQ(set.resolve(20, {reader(5, {range("a", "b")}), reader(5, {range("c", "d")}),
                             reader(5, {single_key_range("c")}), reader(5, {range("a", "b\0"s)})}),
            (Outcomes{committed, committed, committed, conflict}));
}

TEST(ConflictSetTest, EmptyRangesAreIgnored) {
  ConflictSet set(0);
  set.resolve(10, {writer(5, {range("c", "c"), range("d", "b")})});
  EXPECT_EQ(set.size(), 0u);
  set.resolve(20, {writer(5, {range("a", "z")})});
  EXPECT_EQ(set.resolve(30, {reader(5, {range("m", "m"), range("q", "p")})}), Outcomes{committed});
}

TEST(ConflictSetTest, NewerWriteOverridesOnlyItsRange) {
  ConflictSet set(0);
  set.resolve(10, {writer(5, {range("a", "z")})});
  set.resolve(20, {writer(15, {range("m", "n")})});
  EXPECT_EQ(set.resolve(30, {reader(15, {range("a", "m")}), reader(15, {single_key_range("m")}),
                             reader(15, {range("n", "z")}), reader(9, {range("n", "o")})}),
            (Outcomes{committed, conflict, committed, conflict}));
  set.check_invariants();
}

// A point write is one boundary: the keys after it keep what held there, even the very next
// key, and a later range write that starts right after it or covers it reads it right.
TEST(ConflictSetTest, PointWritesKeepWhatHeldAfterThem) {
  ConflictSet set(0);
  set.resolve(10, {writer(5, {range("a", "z")})});
  set.resolve(20, {writer(15, {single_key_range("m")})});
  set.record_held_writes();
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(set.resolve(30, {reader(15, {single_key_range("m")}), reader(15, {single_key_range("m\0"s)}),
                             reader(15, {range("m\0"s, "n")}), reader(15, {range("l", "m")}),
                             reader(15, {range("l", "m\0"s)}), reader(9, {single_key_range("m\0"s)})}),
            (Outcomes{conflict, committed, committed, committed, conflict, conflict}));
  set.resolve(40, {writer(35, {range("m\0"s, "p")})});
  set.resolve(50, {writer(45, {single_key_range("q")})});
  EXPECT_EQ(set.resolve(60, {reader(35, {single_key_range("m")}), reader(35, {range("m\0"s, "m\1"s)}),
                             reader(40, {range("o", "q")}), reader(40, {range("p", "q")}),
                             reader(15, {range("p", "q")}), reader(45, {range("q", "z")})}),
            (Outcomes{committed, conflict, committed, committed, committed, conflict}));
  set.check_invariants();
}

TEST(ConflictSetTest, IntraBatchConflictsFollowBatchOrder) {
  ConflictSet set(0);
  const ConflictTransaction read_x_before = reader(5, {single_key_range("x")});
  const ConflictTransaction write_x = writer(5, {single_key_range("x")});
  const ConflictTransaction read_x_write_z{5, {range("w", "y")}, {single_key_range("z")}};
  const ConflictTransaction read_z = reader(5, {single_key_range("z")});
  // The conflicting transaction's write of z is not recorded, so read_z commits.
  EXPECT_EQ(set.resolve(10, {read_x_before, write_x, read_x_write_z, read_z}),
            (Outcomes{committed, committed, conflict, committed}));
  EXPECT_EQ(set.resolve(20, {reader(9, {single_key_range("x")}), reader(9, {range("y", "zz")})}),
            (Outcomes{conflict, committed}));
}

// The writes after a batch's last reader are held, and counted only once recorded (by
// record_held_writes() or first thing in the next resolve); a write before a reader of the same
// batch is recorded at once, so the reader sees it.
TEST(ConflictSetTest, WritesAfterTheLastReaderAreHeldUntilRecorded) {
  ConflictSet set(0);
  EXPECT_EQ(set.resolve(10, {writer(5, {single_key_range("a")}), reader(5, {single_key_range("a")}),
                             writer(5, {single_key_range("b")})}),
            (Outcomes{committed, conflict, committed}));
  EXPECT_TRUE(set.holds_writes());
  EXPECT_EQ(set.size(), 1u);  // a's boundary: b's is held
  EXPECT_EQ(set.resolve(20, {reader(15, {single_key_range("b")}), reader(9, {single_key_range("b")})}),
            (Outcomes{committed, conflict}));
  EXPECT_FALSE(set.holds_writes());
  EXPECT_EQ(set.size(), 2u);
  set.resolve(30, {writer(25, {range("c", "d")})});
  EXPECT_TRUE(set.holds_writes());
  set.record_held_writes();
  EXPECT_FALSE(set.holds_writes());
  EXPECT_EQ(set.size(), 4u);
  EXPECT_EQ(set.resolve(40, {reader(29, {single_key_range("c")})}), Outcomes{conflict});
  set.check_invariants();
}

TEST(ConflictSetTest, ReadVersionsOutsideTheWindowAreTooOld) {
  ConflictSet set(100);
  EXPECT_EQ(set.resolve(200, {reader(99, {range("a", "b")}), reader(100, {range("a", "b")})}),
            (Outcomes{too_old, committed}));
  const Version commit_version = 10 * mvcc_window_versions;
  const Version oldest = commit_version - mvcc_window_versions;
  EXPECT_EQ(set.resolve(commit_version,
                        {reader(oldest - 1, {range("a", "b")}), reader(oldest, {range("a", "b")})}),
            (Outcomes{too_old, committed}));
  EXPECT_EQ(set.oldest_version(), oldest);
  EXPECT_STREQ(conflict_outcome_name(too_old), "too_old");
  EXPECT_EQ(set.newest_version(), commit_version);
}

// A client that took its read version in a newer generation may reach a proxy of the
// superseded one (everything_soak seed 9076): such a transaction does not commit, and its
// writes are not recorded.
TEST(ConflictSetTest, ReadVersionsAtOrPastTheCommitVersionDoNotCommit) {
  ConflictSet set(0);
  EXPECT_EQ(set.resolve(20, {writer(25, {range("a", "b")}), writer(20, {range("c", "d")}),
                             writer(19, {range("e", "f")})}),
            (Outcomes{conflict, conflict, committed}));
  EXPECT_EQ(set.resolve(30, {reader(19, {range("a", "d")}), reader(19, {range("e", "f")})}),
            (Outcomes{committed, conflict}));
  set.check_invariants();
}

TEST(ConflictSetTest, TransactionsThatReadNothingAreNeverTooOld) {
  ConflictSet set(100);
  const Version commit_version = 10 * mvcc_window_versions;
  // A blind write (no read version at all), one with an old version and only empty reads.
  EXPECT_EQ(set.resolve(commit_version, {writer(0, {range("a", "b")}), reader(1, {KeyRange{"c", "c"}})}),
            (Outcomes{committed, committed}));
}

TEST(ConflictSetTest, OldWritesAreForgotten) {
  ConflictSet set(0);
  Version version = 1;
  for (int i = 0; i < 1000; ++i) {
    const Key key = "key" + std::to_string(i * 7 % 1000);
    set.resolve(version++, {writer(0, {single_key_range(key)})});
  }
  set.record_held_writes();
  EXPECT_EQ(set.size(), 1000u);  // one boundary per key written
  // Past the window every write is at or below the oldest version: none can conflict, and the
  // generation that held them goes at once.
  version += mvcc_window_versions;
  EXPECT_EQ(set.resolve(version, {reader(version - 1, {range("", "\xff")})}), Outcomes{committed});
  set.check_invariants();
  EXPECT_EQ(set.size(), 0u);
  EXPECT_EQ(set.generations(), 0u);
}

// A generation is sealed once it holds its boundaries' maximum, and the next batch's writes start
// a new one; a read checks them all, newest first, down to its read version.
TEST(ConflictSetTest, FullGenerationsAreSealed) {
  ConflictSet set(0, 1, 2);
  for (Version version = 1; version <= 6; ++version) {
    set.resolve(version, {writer(0, {single_key_range("key" + std::to_string(version))})});
  }
  set.record_held_writes();
  set.check_invariants();
  EXPECT_EQ(set.generations(), 3u);  // two point writes of one boundary each per generation
  EXPECT_EQ(set.size(), 6u);
  EXPECT_EQ(set.resolve(7, {reader(1, {single_key_range("key2")}), reader(2, {single_key_range("key2")}),
                            reader(5, {single_key_range("key5")}), reader(5, {single_key_range("key6")})}),
            (Outcomes{conflict, committed, committed, conflict}));
}

TEST(ConflictSetTest, ForgettingKeepsNewerWrites) {
  ConflictSet set(0);
  set.resolve(1, {writer(0, {range("a", "c"), range("e", "g")})});
  const Version recent = mvcc_window_versions;
  set.resolve(recent, {writer(0, {range("b", "f")})});
  set.resolve(recent + 2, {});  // oldest = 2: the write at 1 is forgotten
  set.check_invariants();
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(set.resolve(recent + 3, {reader(recent - 1, {range("a", "b")}),
                                     reader(recent - 1, {range("f", "g")}),
                                     reader(recent - 1, {single_key_range("e")})}),
            (Outcomes{committed, committed, conflict}));
}

// --- Randomized comparison with a brute-force model --------------------------------------------

// Every committed write range with its version; a read conflicts with any newer intersecting one.
// (KeyRange::intersects says true for some empty ranges, so the model skips empty ones.)
class ModelConflictSet {
 public:
  explicit ModelConflictSet(Version initial_version) : oldest_(initial_version) {}

  Outcomes resolve(Version commit_version, const std::vector<ConflictTransaction>& batch) {
    oldest_ = std::max(oldest_, commit_version - mvcc_window_versions);
    Outcomes outcomes;
    for (const ConflictTransaction& transaction : batch) {
      outcomes.push_back(check(transaction));
      if (outcomes.back() != committed) continue;
      for (const KeyRange& write : transaction.writes) {
        if (!write.empty()) writes_.push_back({write, commit_version});
      }
    }
    std::erase_if(writes_, [&](const auto& write) { return write.second <= oldest_; });
    return outcomes;
  }

 private:
  ConflictOutcome check(const ConflictTransaction& transaction) const {
    bool reads = false;
    for (const KeyRange& read : transaction.reads) reads = reads || !read.empty();
    if (reads && transaction.read_version < oldest_) return too_old;
    for (const KeyRange& read : transaction.reads) {
      if (read.empty()) continue;
      for (const auto& [write, version] : writes_) {
        if (version > transaction.read_version && read.intersects(write)) return conflict;
      }
    }
    return committed;
  }

  Version oldest_;
  std::vector<std::pair<KeyRange, Version>> writes_;
};

struct RandomWorkload {
  DeterministicRandom random;
  int alphabet_size;
  int key_length_min;
  int key_length_max;
  Version step_max;                // versions between batches
  double wide_probability = 0.05;  // of a range between two random keys, else short ranges
  Key common_prefix;               // starts every key

  Key key() {
    Key result = common_prefix;
    const int64_t length = random.random_int(key_length_min, key_length_max + 1);
    for (int64_t i = 0; i < length; ++i) {
      result += static_cast<char>(random.random_int(0, alphabet_size));  // '\0' included
    }
    return result;
  }
  KeyRange key_range() {
    const double kind = random.random01();
    if (kind < wide_probability) return range(key(), key());  // empty about half the time
    if (kind < wide_probability + 0.3) return single_key_range(key());
    Key begin = key();
    Key end = begin + static_cast<char>(random.random_int(0, alphabet_size));
    return range(std::move(begin), std::move(end));  // short: begin up to a sibling
  }
  std::vector<KeyRange> ranges() {
    std::vector<KeyRange> result(random.random_int(0, 4));
    for (KeyRange& each : result) each = key_range();
    return result;
  }
  std::vector<ConflictTransaction> batch(Version commit_version) {
    std::vector<ConflictTransaction> result(random.random_int(0, 8));
    for (ConflictTransaction& transaction : result) {
      const Version lag = random.coin(0.1) ? random.random_int(1, 2 * mvcc_window_versions)
                                           : random.random_int(1, 8 * step_max);
      transaction.read_version = std::max<Version>(0, commit_version - lag);
      transaction.reads = ranges();
      transaction.writes = ranges();
    }
    return result;
  }
};

void compare_with_model(RandomWorkload workload, uint64_t seed, int batches,
                        size_t generation_boundaries_max = ConflictSet::default_generation_boundaries_max) {
  ConflictSet set(0, seed, generation_boundaries_max);
  ModelConflictSet model(0);
  Version version = 0;
  size_t counts[3] = {};
  for (int i = 0; i < batches; ++i) {
    version += workload.random.random_int(1, workload.step_max + 1);
    const std::vector<ConflictTransaction> batch = workload.batch(version);
    const Outcomes outcomes = set.resolve(version, batch);
    ASSERT_EQ(outcomes, model.resolve(version, batch)) << "seed " << seed << " batch " << i;
    for (const ConflictOutcome outcome : outcomes) ++counts[static_cast<int>(outcome)];
    // Held writes are recorded either as the resolver does it, between batches, or by the next
    // batch first.
    if (workload.random.coin(0.5)) set.record_held_writes();
    set.check_invariants();
  }
  // The workload must exercise every outcome for the comparison to mean something.
  for (const size_t count : counts) EXPECT_GT(count, static_cast<size_t>(batches) / 20);
}

TEST(ConflictSetTest, MatchesModelWithTinyAlphabet) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    compare_with_model(RandomWorkload{DeterministicRandom(seed), 3, 0, 2, versions_per_second},
                       seed, 4000);
  }
}

TEST(ConflictSetTest, MatchesModelWithLargerAlphabet) {
  // About 500 batches in the window; the set holds about a hundred boundaries.
  for (uint64_t seed = 11; seed <= 13; ++seed) {
    compare_with_model(RandomWorkload{DeterministicRandom(seed), 8, 0, 4, 20'000}, seed, 4000);
  }
}

// Longer keys, no wide ranges, about 1,000 batches in the window: about 2,000 boundaries.
TEST(ConflictSetTest, MatchesModelWithManyBoundaries) {
  compare_with_model(RandomWorkload{DeterministicRandom(21), 10, 2, 4, 5'000, 0.0}, 21, 4000);
}

// Generations sealed after a few dozen boundaries: a read that reaches back checks dozens of
// them, and wide writes and reads span generations.
TEST(ConflictSetTest, MatchesModelWithManySmallGenerations) {
  for (uint64_t seed = 51; seed <= 53; ++seed) {
    compare_with_model(RandomWorkload{DeterministicRandom(seed), 8, 0, 4, 20'000}, seed, 4000, size_t{8} << (seed - 51));
  }
}

// Keys that share their first 13 to 15 bytes (longer than the short-string buffer of a
// std::string), so that order is decided late in the keys, '\0' bytes included.
TEST(ConflictSetTest, MatchesModelWithKeysLongerThanThePrefix) {
  for (uint64_t seed = 31; seed <= 33; ++seed) {
    RandomWorkload workload{DeterministicRandom(seed), 3, 0, 5, 20'000};
    workload.common_prefix = Key("0123456789abcde").substr(0, 13 + seed % 3);
    compare_with_model(std::move(workload), seed, 3000);
  }
}

// Keys of 20 to 27 bytes: some held inside their nodes, some on the heap (over 24 bytes), compared
// with each other in both directions.
TEST(ConflictSetTest, MatchesModelWithKeysAroundTheInlineLength) {
  for (uint64_t seed = 41; seed <= 43; ++seed) {
    RandomWorkload workload{DeterministicRandom(seed), 3, 0, 5, 20'000};
    workload.common_prefix = Key(20 + seed % 3, 'p');
    compare_with_model(std::move(workload), seed, 3000);
  }
}

// --- Scale -------------------------------------------------------------------------------------

Key random_key(DeterministicRandom& random) {
  return "k" + std::to_string(random.random_int(0, 100'000'000));
}

// 200k batches of one transaction each that reads and writes a short random range. With `step`
// versions per batch the window holds mvcc_window_versions / step batches of writes.
void run_at_scale(Version step) {
  DeterministicRandom random(99);
  ConflictSet set(0, 99);
  size_t conflicts = 0;
  Version version = 0;
  for (int i = 0; i < 200'000; ++i) {
    version += step;
    const Key key = random_key(random);
    const ConflictTransaction transaction{
        version - 1 - random.random_int(0, 50 * step),
        {range(key, key + "5"), single_key_range(random_key(random))},
        {range(key, key + "1"), single_key_range(random_key(random))}};
    conflicts += set.resolve(version, {transaction})[0] == conflict;
  }
  set.check_invariants();
  // Each batch adds at most four boundaries; forgetting keeps up with the window: at most about
  // twice the live boundaries are held.
  const Version batches_in_window = std::min<Version>(200'000, mvcc_window_versions / step + 1);
  EXPECT_LE(set.size(), 8 * static_cast<size_t>(batches_in_window) + 64);
  EXPECT_GT(conflicts, 0u);
}

TEST(ConflictSetTest, ManyRangesWithinTheWindow) { run_at_scale(1); }

TEST(ConflictSetTest, ManyRangesWithTheWindowMoving) { run_at_scale(100); }

}  // namespace
}  // namespace keel

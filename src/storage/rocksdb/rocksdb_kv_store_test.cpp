// Tests of the rocksdb engine in the real world, each in a temporary directory: random operations
// against a model with commits in flight, reopening, checkpoints and corruption.
#include "storage/rocksdb/rocksdb_kv_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>

#include "runtime/trace.h"
#include "storage/real_disk_test_support.h"
#include "storage/rocksdb/rocksdb_knobs.h"
#include "storage/storage_test_support.h"

namespace keel {
namespace {

using testing::Model;
using testing::model_bytes;
using testing::read_all;
using testing::run_in_real_world;
using testing::TemporaryDirectory;
namespace fs = std::filesystem;

class RocksDBKVStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RocksDBKVStoreKnobs& knobs = rocksdb_kv_store_knobs();
    saved_ = knobs.write_buffer_bytes;
    knobs.write_buffer_bytes = 64 * 1024;  // flushes and SSTs after a few hundred writes
    trace_log().set_output_file(stderr);
    trace_log().set_min_severity(Severity::warn);
  }
  void TearDown() override { rocksdb_kv_store_knobs().write_buffer_bytes = saved_; }
  TemporaryDirectory directory_{"keel-rocksdb-test-"};

 private:
  double saved_ = 0;
};

// The conformance suite's random operations (kv_store_real_test.cpp runs them too) with a small
// write buffer, so that flushes and SSTs happen under the reads. The live byte count must match
// the model whether commits learn old value sizes from ValueSizes (default), forget them every
// few commits (a small capacity) or read every key again (0).
TEST_F(RocksDBKVStoreTest, RandomOperationsMatchAModel) {
  testing::RandomOperationsOptions options;
  options.steps = 3000;
  options.device_bytes_written_known = true;
  RocksDBKVStoreKnobs& knobs = rocksdb_kv_store_knobs();
  const double default_value_sizes = knobs.value_sizes_bytes;
  for (const double value_sizes_bytes : {default_value_sizes, 2048.0, 0.0}) {
    knobs.value_sizes_bytes = value_sizes_bytes;
    const uint64_t seeds = value_sizes_bytes == default_value_sizes ? 6 : 2;
    for (uint64_t seed = 1; seed <= seeds; ++seed) {
      SCOPED_TRACE("seed " + std::to_string(seed) + ", value sizes " + std::to_string(static_cast<int64_t>(value_sizes_bytes)) + " bytes");
      const std::string path = directory_.path("seed" + std::to_string(seed) + "-" + std::to_string(static_cast<int64_t>(value_sizes_bytes)));
      testing::OpenStore open = [path] { return open_rocksdb_kv_store(path); };
      auto body = [open, seed, options] { return testing::random_operations(open, seed, options); };
      EXPECT_EQ(run_in_real_world(body).code(), errc::success);
      if (HasFailure()) break;
    }
  }
  knobs.value_sizes_bytes = default_value_sizes;
}

// Many point reads at once (batched into one RocksDB MultiGet per snapshot), with commits landing
// between them: each read sees the store as it was when it was called.
Future<Void> concurrent_gets(std::string directory) {
  std::unique_ptr<IKeyValueStore> store = co_await open_rocksdb_kv_store(directory);
  Model model;
  for (int i = 0; i < 300; ++i) {
    store->set("k" + std::to_string(i), "v0-" + std::to_string(i));
    model["k" + std::to_string(i)] = "v0-" + std::to_string(i);
  }
  Future<Void> first = store->commit();
  co_await first;
  std::vector<std::pair<Key, std::optional<Value>>> expected;
  std::vector<Future<std::optional<Value>>> reads;
  std::deque<Future<Void>> commits;
  for (int round = 1; round <= 5; ++round) {
    for (int i = 0; i < 300; i += 7) {
      const Key key = "k" + std::to_string((i * round) % 320);  // some keys never written
      auto it = model.find(key);
      expected.emplace_back(key, it == model.end() ? std::nullopt : std::optional<Value>(it->second));
      reads.push_back(store->get(key));
    }
    for (int i = round; i < 300; i += 5) {
      const Key key = "k" + std::to_string(i);
      store->set(key, "v" + std::to_string(round) + "-" + std::to_string(i));
      model[key] = "v" + std::to_string(round) + "-" + std::to_string(i);
    }
    store->clear_range(KeyRange{"k2" + std::to_string(round), "k2" + std::to_string(round) + "5"});
    model.erase(model.lower_bound("k2" + std::to_string(round)), model.lower_bound("k2" + std::to_string(round) + "5"));
    commits.push_back(store->commit());
    if (round % 2 == 0) {
      co_await commits.front();
      commits.pop_front();
    }
  }
  for (size_t i = 0; i < reads.size(); ++i) {
    std::optional<Value> value = co_await reads[i];
    EXPECT_EQ(value, expected[i].second) << "read " << i << " of " << expected[i].first;
  }
  for (Future<Void>& commit : commits) co_await commit;
  Model seen = co_await read_all(*store);
  EXPECT_TRUE(seen == model);
  co_return Void{};
}

// Also with the row cache's refreshes after each commit in pieces of one key: reads that land
// between pieces must neither see nor cache a stale result.
TEST_F(RocksDBKVStoreTest, ConcurrentGetsSeeTheStoreAsOfTheirCall) {
  RocksDBKVStoreKnobs& knobs = rocksdb_kv_store_knobs();
  const double default_piece_keys = knobs.refresh_piece_keys;
  for (const double piece_keys : {default_piece_keys, 1.0}) {
    knobs.refresh_piece_keys = piece_keys;
    SCOPED_TRACE("refresh piece keys " + std::to_string(static_cast<int64_t>(piece_keys)));
    const std::string path = directory_.path("db" + std::to_string(static_cast<int64_t>(piece_keys)));
    auto body = [path] { return concurrent_gets(path); };
    EXPECT_EQ(run_in_real_world(body).code(), errc::success);
  }
  knobs.refresh_piece_keys = default_piece_keys;
}

// Keeps the event loop busy (about 20 us of work per turn) until `stop`, so that the refreshes
// of a commit's keys in the row cache, one key per turn, take a while.
Future<Void> keep_the_loop_busy(const bool& stop) {
  while (!stop) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
    while (std::chrono::steady_clock::now() < until) {
    }
    co_await yield();
  }
  co_return Void{};
}

// Reads on the pool at the old snapshot, finishing while a commit's keys are being refreshed in
// the row cache, one key per busy turn: the old results they bring must not enter the cache,
// where they would answer reads after the commit. Rounds read more keys each (a longer read),
// three times over, so that some batch finishes in the middle of the erasures.
Future<Void> reads_finishing_while_a_commit_is_refreshed(std::string directory) {
  std::unique_ptr<IKeyValueStore> store = co_await open_rocksdb_kv_store(directory);
  constexpr int keys = 20000;
  constexpr int written_every = 50;
  auto key_of = [](int i) { return "f" + std::to_string(100000 + i); };
  std::vector<Value> current(keys, "v0");
  for (int i = 0; i < keys; ++i) store->set(key_of(i), current[i]);
  Future<Void> first = store->commit();
  co_await first;
  bool stop = false;
  Future<Void> busy = keep_the_loop_busy(stop);
  int round = 0;
  for (int pass = 0; pass < 3 && !::testing::Test::HasFailure(); ++pass) {
    for (int read_keys = 250; read_keys <= keys && !::testing::Test::HasFailure(); read_keys += read_keys / 2) {
      ++round;
      const std::string value = "v" + std::to_string(round);
      const int offset = round % written_every;
      std::vector<Future<std::optional<Value>>> reads;
      for (int i = 0; i < read_keys; ++i) reads.push_back(store->get(key_of(i)));
      for (int i = offset; i < keys; i += written_every) store->set(key_of(i), value);
      Future<Void> committed = store->commit();
      co_await committed;
      for (int i = 0; i < read_keys; ++i) {
        std::optional<Value> old = co_await reads[i];
        EXPECT_EQ(old, std::optional<Value>(current[i])) << "round " << round << ": a read before the commit";
      }
      for (int i = offset; i < keys; i += written_every) {
        current[i] = value;
        std::optional<Value> now = co_await store->get(key_of(i));
        EXPECT_EQ(now, std::optional<Value>(value)) << "round " << round << ": " << key_of(i) << " after its commit";
      }
    }
  }
  stop = true;
  co_await busy;
  co_return Void{};
}

TEST_F(RocksDBKVStoreTest, ReadsFinishingWhileACommitIsRefreshedCacheNothingStale) {
  RocksDBKVStoreKnobs& knobs = rocksdb_kv_store_knobs();
  const double default_piece_keys = knobs.refresh_piece_keys;
  const double default_on_loop = knobs.cached_reads_on_loop;
  knobs.refresh_piece_keys = 1.0;
  knobs.cached_reads_on_loop = 0.0;  // every batch to the pool, finishing whenever it finishes
  const std::string path = directory_.path("db");
  auto body = [path] { return reads_finishing_while_a_commit_is_refreshed(path); };
  EXPECT_EQ(run_in_real_world(body).code(), errc::success);
  knobs.refresh_piece_keys = default_piece_keys;
  knobs.cached_reads_on_loop = default_on_loop;
}

Future<Void> checkpoint_holds_committed_data(std::string directory, std::string copy) {
  std::unique_ptr<IKeyValueStore> store = co_await open_rocksdb_kv_store(directory);
  Model model;
  for (int i = 0; i < 2000; ++i) {
    const Key key = "key" + std::to_string(i);
    store->set(key, std::string(50, static_cast<char>('a' + i % 26)));
    model[key] = std::string(50, static_cast<char>('a' + i % 26));
  }
  store->clear_range(KeyRange{"key1", "key2"});
  model.erase(model.lower_bound("key1"), model.lower_bound("key2"));
  Future<Void> committed = store->commit();
  co_await committed;
  store->set("uncommitted", "x");  // buffered only: not in the checkpoint
  co_await store->checkpoint(copy);
  Model with_buffered = model;
  with_buffered["uncommitted"] = "x";
  Model seen = co_await read_all(*store);
  EXPECT_TRUE(seen == with_buffered);
  std::unique_ptr<IKeyValueStore> restored = co_await open_rocksdb_kv_store(copy);
  Model restored_data = co_await read_all(*restored);
  EXPECT_TRUE(restored_data == model) << restored_data.size() << " keys, expected " << model.size();
  EXPECT_EQ(restored->logical_bytes(), model_bytes(model));
  co_return Void{};
}

TEST_F(RocksDBKVStoreTest, CheckpointHoldsTheCommittedData) {
  const std::string path = directory_.path("db");
  const std::string copy = directory_.path("checkpoint");
  auto body = [path, copy] { return checkpoint_holds_committed_data(path, copy); };
  EXPECT_EQ(run_in_real_world(body).code(), errc::success);
}

Future<Void> fill_and_flush(std::string directory, std::string checkpoint) {
  std::unique_ptr<IKeyValueStore> store = co_await open_rocksdb_kv_store(directory);
  for (int i = 0; i < 3000; ++i) store->set("key" + std::to_string(100000 + i), std::string(100, 'v'));
  Future<Void> committed = store->commit();
  co_await committed;
  co_await store->checkpoint(checkpoint);  // flushes the memtable: every pair is in an SST
  co_return Void{};
}

// Point reads of a database whose pairs are all in SSTs no read has touched yet: the first
// batch finds the data blocks missing from the block cache (so read on the pool), the second
// finds them there (so read on the event loop). Both see every pair, and none where there is none.
Future<Void> point_reads_from_disk_then_cache(std::string directory) {
  std::unique_ptr<IKeyValueStore> store = co_await open_rocksdb_kv_store(directory);
  for (int round = 1; round <= 2; ++round) {
    std::vector<Future<std::optional<Value>>> reads;
    for (int i = 0; i < 3100; i += 3) reads.push_back(store->get("key" + std::to_string(100000 + i)));
    for (size_t i = 0; i < reads.size(); ++i) {
      const int n = static_cast<int>(i) * 3;
      std::optional<Value> value = co_await reads[i];
      const std::optional<Value> expected = n < 3000 ? std::optional<Value>(std::string(100, 'v')) : std::nullopt;
      EXPECT_EQ(value, expected) << "round " << round << ", key" << 100000 + n;
    }
  }
  co_return Void{};
}

TEST_F(RocksDBKVStoreTest, PointReadsOfUncachedDataReadTheDisk) {
  const std::string path = directory_.path("db");
  const std::string checkpoint = directory_.path("checkpoint");
  auto fill = [path, checkpoint] { return fill_and_flush(path, checkpoint); };
  ASSERT_EQ(run_in_real_world(fill).code(), errc::success);
  for (const double on_loop : {1.0, 0.0}) {
    SCOPED_TRACE("rocksdb_cached_reads_on_loop " + std::to_string(on_loop));
    rocksdb_kv_store_knobs().cached_reads_on_loop = on_loop;
    const std::string copy = directory_.path("copy" + std::to_string(static_cast<int>(on_loop)));
    fs::copy(checkpoint, copy);  // opened fresh: its blocks are in no cache
    auto read = [copy] { return point_reads_from_disk_then_cache(copy); };
    EXPECT_EQ(run_in_real_world(read).code(), errc::success);
  }
  rocksdb_kv_store_knobs().cached_reads_on_loop = 1.0;
}

// The row cache after a reopen: a key's first read misses and caches it, later ones hit, and a
// commit leaves every key it writes in the cache, cached before or not (the next read hits and
// sees the new value), also when it clears another key as a one-key range, as a storage server
// hands a deleted key over (a wider range clear empties the cache). The metrics count both.
Future<Void> row_cache_hits_and_refreshes(std::string directory) {
  constexpr int keys = 100;
  constexpr int new_keys = 50;
  auto key_of = [](int i) { return "r" + std::to_string(1000 + i); };
  {
    std::unique_ptr<IKeyValueStore> store = co_await open_rocksdb_kv_store(directory);
    for (int i = 0; i < keys; ++i) store->set(key_of(i), "first");
    Future<Void> first = store->commit();
    co_await first;
  }
  std::unique_ptr<IKeyValueStore> store = co_await open_rocksdb_kv_store(directory);  // its cache is empty
  const EngineMetrics before = store->metrics();
  for (const std::string expected : {"first", "first", "second"}) {
    if (expected == "second") {
      for (int i = 0; i < keys + new_keys; ++i) store->set(key_of(i), "second");
      store->clear_range(single_key_range("q"));
      Future<Void> second = store->commit();
      co_await second;
    }
    for (int i = 0; i < (expected == "second" ? keys + new_keys : keys); ++i) {
      std::optional<Value> value = co_await store->get(key_of(i));
      EXPECT_EQ(value, std::optional<Value>(expected)) << key_of(i);
    }
  }
  const EngineMetrics after = store->metrics();
  EXPECT_EQ(after.cache_misses - before.cache_misses, keys);
  EXPECT_EQ(after.cache_hits - before.cache_hits, 2 * keys + new_keys);
  co_return Void{};
}

TEST_F(RocksDBKVStoreTest, RowCacheHitsAndRefreshesAreCounted) {
  const std::string path = directory_.path("db");
  auto body = [path] { return row_cache_hits_and_refreshes(path); };
  EXPECT_EQ(run_in_real_world(body).code(), errc::success);
}

// A commit counts the old size of each key it writes from the row cache when the cache holds
// the key (read since the reopen, written by an earlier commit, or new to the key filter),
// present or absent, and reads the rest: the logical byte count stays exact either way, and is
// what a reopen reads back.
Future<Void> logical_bytes_from_cached_sizes(std::string directory) {
  auto key_of = [](int i) { return "s" + std::to_string(1000 + i); };
  auto value_of = [](int i, int commit) { return std::string(static_cast<size_t>(10 + (i * 7 + commit * 13) % 40), 'v'); };
  Model model;
  {
    std::unique_ptr<IKeyValueStore> store = co_await open_rocksdb_kv_store(directory);
    for (int i = 0; i < 100; ++i) store->set(key_of(i), model[key_of(i)] = value_of(i, 0));
    Future<Void> first = store->commit();
    co_await first;
  }
  std::unique_ptr<IKeyValueStore> store = co_await open_rocksdb_kv_store(directory);  // nothing cached or known
  for (int i = 0; i < 60; ++i) {
    std::optional<Value> value = co_await store->get(key_of(i));
    EXPECT_EQ(value, std::optional<Value>(model[key_of(i)])) << key_of(i);
  }
  // Keys 50-59 become cached as absent; 60-69 were never read.
  for (int i = 50; i < 70; ++i) {
    store->clear_range(single_key_range(key_of(i)));
    model.erase(key_of(i));
  }
  Future<Void> second = store->commit();
  co_await second;
  EXPECT_EQ(store->logical_bytes(), model_bytes(model));
  // Read (0-29), deleted (30-39), recreated (50-54, 60-64), never read or written since the
  // reopen (80-99) and new (200-219), with new sizes.
  for (int i = 0; i < 30; ++i) store->set(key_of(i), model[key_of(i)] = value_of(i, 2));
  for (int i = 30; i < 40; ++i) {
    store->clear_range(single_key_range(key_of(i)));
    model.erase(key_of(i));
  }
  for (int i : {50, 51, 52, 53, 54, 60, 61, 62, 63, 64}) store->set(key_of(i), model[key_of(i)] = value_of(i, 2));
  for (int i = 80; i < 100; ++i) store->set(key_of(i), model[key_of(i)] = value_of(i, 2));
  for (int i = 200; i < 220; ++i) store->set(key_of(i), model[key_of(i)] = value_of(i, 2));  // never held
  Future<Void> third = store->commit();
  co_await third;
  EXPECT_EQ(store->logical_bytes(), model_bytes(model));
  store.reset();
  std::unique_ptr<IKeyValueStore> reopened = co_await open_rocksdb_kv_store(directory);
  EXPECT_EQ(reopened->logical_bytes(), model_bytes(model));
  Model seen = co_await read_all(*reopened);
  EXPECT_TRUE(seen == model);
  co_return Void{};
}

TEST_F(RocksDBKVStoreTest, LogicalBytesCountOldSizesTheRowCacheHolds) {
  const std::string path = directory_.path("db");
  auto body = [path] { return logical_bytes_from_cached_sizes(path); };
  EXPECT_EQ(run_in_real_world(body).code(), errc::success);
}

// The key filter (storage/key_filter.h) after a reopen: while its scan of the keys held at open
// runs (in pieces of 100 keys here), reads go to RocksDB and writes reach the filter; once it
// is trusted, reads of keys never written are answered without RocksDB (counted), and no key
// the store holds, old or new, is ever missed.
Future<Void> key_filter_after_reopen(std::string directory, bool filter_on) {
  auto key_of = [](const std::string& kind, int i) { return kind + std::to_string(100000 + i); };
  constexpr int old_keys = 3000;
  constexpr int new_keys = 500;
  constexpr int absent_keys = 1000;
  {
    std::unique_ptr<IKeyValueStore> store = co_await open_rocksdb_kv_store(directory);
    for (int i = 0; i < old_keys; ++i) store->set(key_of("old", i), "o" + std::to_string(i));
    Future<Void> written = store->commit();
    co_await written;
  }
  std::unique_ptr<IKeyValueStore> store = co_await open_rocksdb_kv_store(directory);
  auto check_all = [&]() -> Future<Void> {
    for (int i = 0; i < old_keys; ++i) {
      std::optional<Value> value = co_await store->get(key_of("old", i));
      EXPECT_EQ(value, std::optional<Value>("o" + std::to_string(i))) << key_of("old", i);
    }
    for (int i = 0; i < new_keys; ++i) {
      std::optional<Value> value = co_await store->get(key_of("new", i));
      EXPECT_EQ(value, std::optional<Value>("n" + std::to_string(i))) << key_of("new", i);
    }
    co_return Void{};
  };
  // During the scan (3,000 keys in pieces of 100): new keys, some committed, some pending.
  for (int i = 0; i < new_keys; ++i) {
    store->set(key_of("new", i), "n" + std::to_string(i));
    if (i == new_keys / 2) {
      Future<Void> half = store->commit();
      co_await half;
    }
  }
  co_await check_all();
  // Until the scan is done (bounded): absent reads are counted once the filter is trusted.
  const double waited_since = now();
  while (filter_on && store->metrics().filtered_reads <= 0 && now() - waited_since < 30) {
    std::optional<Value> absent = co_await store->get("absent-probe");
    EXPECT_EQ(absent, std::nullopt);
    co_await delay(0.01);
  }
  const int64_t filtered_before = store->metrics().filtered_reads;
  for (int i = 0; i < absent_keys; ++i) {
    std::optional<Value> absent = co_await store->get(key_of("absent", i));
    EXPECT_EQ(absent, std::nullopt) << key_of("absent", i);
  }
  co_await check_all();
  Future<Void> rest = store->commit();
  co_await rest;
  co_await check_all();
  const int64_t filtered = store->metrics().filtered_reads;
  if (filter_on) {
    EXPECT_GT(filtered_before, 0) << "the filter never answered a read";
    EXPECT_GE(filtered - filtered_before, absent_keys * 9 / 10);  // false positives aside
  } else {
    EXPECT_EQ(filtered, -1);  // dropped (or off): no read was answered by it
  }
  co_return Void{};
}

TEST_F(RocksDBKVStoreTest, KeyFilterMissesNoKeyAndAnswersKeysNeverWritten) {
  RocksDBKVStoreKnobs& knobs = rocksdb_kv_store_knobs();
  const RocksDBKVStoreKnobs saved = knobs;
  knobs.key_scan_piece_keys = 100;
  const std::string path = directory_.path("db");
  auto body = [path] { return key_filter_after_reopen(path, true); };
  EXPECT_EQ(run_in_real_world(body).code(), errc::success);
  knobs = saved;
}

TEST_F(RocksDBKVStoreTest, KeyFilterPastItsLimitIsDroppedAndReadsGoOn) {
  RocksDBKVStoreKnobs& knobs = rocksdb_kv_store_knobs();
  const RocksDBKVStoreKnobs saved = knobs;
  knobs.key_scan_piece_keys = 100;
  knobs.key_filter_bytes = 1024;  // less than one layer
  const std::string path = directory_.path("db");
  auto body = [path] { return key_filter_after_reopen(path, false); };
  EXPECT_EQ(run_in_real_world(body).code(), errc::success);
  knobs = saved;
}

// Waits (bounded) until the store's key filter answers reads of absent keys: its scan is done.
Future<int64_t> filter_answering(IKeyValueStore& store) {
  const int64_t before = store.metrics().filtered_reads;
  const double started = now();
  for (int i = 0; now() - started < 30; ++i) {
    std::optional<Value> absent = co_await store.get("absent-probe-" + std::to_string(i));
    EXPECT_EQ(absent, std::nullopt);
    if (store.metrics().filtered_reads > before) co_return store.metrics().filtered_reads;
    co_await delay(0.01);
  }
  ADD_FAILURE() << "the key filter never answered a read";
  co_return before;
}

// A keyspace whose keys come and go (each round writes 1,000 new keys and clears the last
// round's): once the keys written since the filter's scan pass its limit (about 8,000 of its
// layers at 16 KiB), the filter starts over from the keys the store holds (the overlays' and a new
// scan's) instead of being dropped, and no live key is ever missed.
Future<Void> key_filter_rebuilt_for_churn(std::string directory) {
  std::unique_ptr<IKeyValueStore> store = co_await open_rocksdb_kv_store(directory);
  co_await filter_answering(*store);
  auto key_of = [](int round, int i) { return "c" + std::to_string(round) + "-" + std::to_string(100000 + i); };
  constexpr int keys = 1000;
  auto check_round = [&](int round) -> Future<Void> {
    for (int i = 0; i < keys; ++i) {
      std::optional<Value> value = co_await store->get(key_of(round, i));
      EXPECT_EQ(value, std::optional<Value>("v" + std::to_string(round))) << key_of(round, i);
      if (round > 0 && i % 10 == 0) {
        std::optional<Value> gone = co_await store->get(key_of(round - 1, i));
        EXPECT_EQ(gone, std::nullopt) << key_of(round - 1, i);
      }
    }
    co_return Void{};
  };
  for (int round = 0; round < 30; ++round) {
    for (int i = 0; i < keys; ++i) store->set(key_of(round, i), "v" + std::to_string(round));
    if (round > 0) {
      for (int i = 0; i < keys; ++i) store->clear(key_of(round - 1, i));
    }
    if (round % 2 == 1) co_await check_round(round);  // from the overlays
    Future<Void> written = store->commit();
    co_await written;
    co_await check_round(round);
    // Reads the overlays or the row cache answer never yield: time for a scan under way (a
    // writer that never lets one finish before the filter fills again gets it dropped).
    co_await delay(0.02);
  }
  Future<Void> last = store->commit();
  co_await last;
  const int64_t answered = store->metrics().filtered_reads;
  const int64_t after = co_await filter_answering(*store);  // started over, not dropped
  EXPECT_GT(after, answered);
  co_return Void{};
}

TEST_F(RocksDBKVStoreTest, KeyFilterStartsOverWhenItsKeysCameAndWent) {
  RocksDBKVStoreKnobs& knobs = rocksdb_kv_store_knobs();
  const RocksDBKVStoreKnobs saved = knobs;
  knobs.key_scan_piece_keys = 500;
  knobs.key_filter_bytes = 16 * 1024;
  const std::string path = directory_.path("db");
  auto body = [path] { return key_filter_rebuilt_for_churn(path); };
  EXPECT_EQ(run_in_real_world(body).code(), errc::success);
  knobs = saved;
}

Future<Void> read_everything(std::string directory) {
  std::unique_ptr<IKeyValueStore> store = co_await open_rocksdb_kv_store(directory);
  Model data = co_await read_all(*store);
  for (const auto& [key, value] : data) {
    if (value != std::string(100, 'v')) ADD_FAILURE() << "wrong data returned for a corrupt file";
  }
  ADD_FAILURE() << "corruption went unnoticed (" << data.size() << " keys read)";
  co_return Void{};
}

// Flips bytes in the first half of every SST file (where the data blocks are).
int corrupt_sst_files(const std::string& directory) {
  int corrupted = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory)) {
    if (entry.path().extension() != ".sst") continue;
    std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    const auto size = static_cast<std::streamoff>(entry.file_size());
    for (std::streamoff offset = 100; offset < size / 2; offset += 997) {
      file.seekg(offset);
      char byte = 0;
      file.read(&byte, 1);
      byte = static_cast<char>(byte ^ 0x5a);
      file.seekp(offset);
      file.write(&byte, 1);
    }
    ++corrupted;
  }
  return corrupted;
}

TEST_F(RocksDBKVStoreTest, CorruptSstIsReportedNeverReturned) {
  const std::string path = directory_.path("db");
  const std::string checkpoint = directory_.path("checkpoint");
  auto fill = [path, checkpoint] { return fill_and_flush(path, checkpoint); };
  ASSERT_EQ(run_in_real_world(fill).code(), errc::success);
  // Corrupt the checkpoint (a closed database of SSTs only; the original shares its files by hard link).
  ASSERT_GT(corrupt_sst_files(checkpoint), 0);
  auto read = [checkpoint] { return read_everything(checkpoint); };
  EXPECT_EQ(run_in_real_world(read).code(), errc::checksum_failed);
}

}  // namespace
}  // namespace keel

// Tests of the rocksdb engine in the real world, each in a temporary directory: random operations
// against a model with commits in flight, reopening, checkpoints and corruption.
#include "storage/rocksdb/rocksdb_kv_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>

#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "storage/rocksdb/rocksdb_knobs.h"
#include "world/real_world.h"

namespace keel {
namespace {

using Model = std::map<Key, Value>;
namespace fs = std::filesystem;

class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    static int count = 0;
    path_ = (fs::temp_directory_path() /
             ("keel_rocksdb_test_" + std::to_string(::getpid()) + "_" + std::to_string(count++)))
                .string();
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TemporaryDirectory() { fs::remove_all(path_); }
  std::string path(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs `body` in a new RealWorld until it finishes; the error it ended with, or success.
int run_real(std::function<Future<Void>()> body) {
  RealWorld world;
  Future<Void> running = body();
  Future<Void> finished = ready(running);
  world.run(finished);
  return running.is_error() ? running.error().code() : errc::success;
}

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
  TemporaryDirectory directory_;

 private:
  double saved_ = 0;
};

Key random_key(DeterministicRandom& random) {
  static const char alphabet[] = {'\0', 'a', 'b', 'c', '\xff'};
  Key key;
  const int64_t length = random.random_int(0, 5);
  for (int64_t i = 0; i < length; ++i) key.push_back(alphabet[random.random_int(0, 5)]);
  return key;
}

Value random_value(DeterministicRandom& random) {
  const int64_t length = random.coin(0.05) ? random.random_int(500, 5000) : random.random_int(0, 40);
  return random.random_bytes(static_cast<size_t>(length));
}

int64_t model_bytes(const Model& model) {
  int64_t bytes = 0;
  for (const auto& [key, value] : model) bytes += static_cast<int64_t>(key.size() + value.size());
  return bytes;
}

std::vector<KeyValue> model_range(const Model& model, const KeyRange& range, int limit, bool reverse,
                                  size_t bytes_limit) {
  std::vector<KeyValue> all;
  for (const auto& [key, value] : model) {
    if (range.contains(key)) all.push_back(KeyValue{key, value});
  }
  if (reverse) std::reverse(all.begin(), all.end());
  std::vector<KeyValue> result;
  size_t bytes = 0;
  for (const KeyValue& pair : all) {
    if (static_cast<int>(result.size()) >= limit) break;
    const size_t pair_bytes = pair.key.size() + pair.value.size();
    if (!result.empty() && bytes + pair_bytes > bytes_limit) break;
    result.push_back(pair);
    bytes += pair_bytes;
  }
  return result;
}

Future<Model> read_all(IKeyValueStore& store) {
  KeyRange everything{Key(), Key(8, '\xff')};
  std::vector<KeyValue> pairs = co_await store.get_range(everything, INT_MAX, false, SIZE_MAX);
  Model model;
  for (KeyValue& pair : pairs) model.emplace(std::move(pair.key), std::move(pair.value));
  co_return model;
}

// One random write or read on the store and the model; false (after reporting) on a mismatch.
Future<bool> random_step(IKeyValueStore& store, Model& model, DeterministicRandom& random) {
  const double choice = random.random01();
  if (choice < 0.40) {
    Key key = random_key(random);
    Value value = random_value(random);
    store.set(key, value);
    model[key] = value;
  } else if (choice < 0.50) {
    Key key = random_key(random);
    store.clear(key);
    model.erase(key);
  } else if (choice < 0.55) {
    KeyRange range{random_key(random), random_key(random)};
    if (random.coin(0.9) && range.end < range.begin) std::swap(range.begin, range.end);
    store.clear_range(range);
    if (!range.empty()) model.erase(model.lower_bound(range.begin), model.lower_bound(range.end));
  } else if (choice < 0.70) {
    Key key = random_key(random);
    std::optional<Value> value = co_await store.get(key);
    auto it = model.find(key);
    const std::optional<Value> expected = it == model.end() ? std::nullopt : std::optional<Value>(it->second);
    if (value != expected) {
      ADD_FAILURE() << "get of a " << key.size() << "-byte key: present " << value.has_value() << ", expected "
                    << expected.has_value();
      co_return false;
    }
  } else {
    KeyRange range{random_key(random), random_key(random)};
    if (range.end < range.begin) std::swap(range.begin, range.end);
    const int limit = random.coin(0.2) ? static_cast<int>(random.random_int(0, 4)) : static_cast<int>(random.random_int(1, 200));
    const bool reverse = random.coin(0.5);
    const size_t bytes_limit = random.coin(0.3) ? static_cast<size_t>(random.random_int(0, 300)) : size_t{1} << 20;
    std::vector<KeyValue> pairs = co_await store.get_range(range, limit, reverse, bytes_limit);
    if (pairs != model_range(model, range, limit, reverse, bytes_limit)) {
      ADD_FAILURE() << "get_range(limit " << limit << ", reverse " << reverse << ", bytes_limit " << bytes_limit
                    << ") returned " << pairs.size() << " pairs";
      co_return false;
    }
  }
  co_return true;
}

Future<Void> random_operations(std::string directory, uint64_t seed, int steps) {
  DeterministicRandom random(seed);
  std::unique_ptr<IKeyValueStore> store = co_await open_rocksdb_kv_store(directory);
  Model model;
  std::deque<Future<Void>> commits;
  bool written_since_commit = false;
  for (int step = 0; step < steps; ++step) {
    const bool matched = co_await random_step(*store, model, random);
    if (!matched) co_return Void{};
    written_since_commit = true;
    if (random.coin(0.1)) {
      commits.push_back(store->commit());
      written_since_commit = false;
    }
    while (!commits.empty() && (commits.size() > 3 || random.coin(0.3))) {
      co_await commits.front();
      commits.pop_front();
    }
    if (commits.empty() && !written_since_commit && store->logical_bytes() != model_bytes(model)) {
      ADD_FAILURE() << "logical_bytes " << store->logical_bytes() << ", expected " << model_bytes(model);
      co_return Void{};
    }
  }
  Future<Void> last = store->commit();
  co_await last;
  EXPECT_EQ(store->logical_bytes(), model_bytes(model));
  EXPECT_GT(store->disk_bytes(), 0);
  const EngineMetrics metrics = store->metrics();
  EXPECT_GT(metrics.commits, 0);
  EXPECT_GT(metrics.logical_bytes_written, 0);
  EXPECT_GT(metrics.device_bytes_written, 0);
  store.reset();
  std::unique_ptr<IKeyValueStore> reopened = co_await open_rocksdb_kv_store(directory);
  Model recovered = co_await read_all(*reopened);
  EXPECT_TRUE(recovered == model) << "after reopening: " << recovered.size() << " keys, expected " << model.size();
  EXPECT_EQ(reopened->logical_bytes(), model_bytes(model));
  co_return Void{};
}

TEST_F(RocksDBKVStoreTest, RandomOperationsMatchAModel) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string path = directory_.path("seed" + std::to_string(seed));
    auto body = [path, seed] { return random_operations(path, seed, 3000); };
    EXPECT_EQ(run_real(body), errc::success);
    if (HasFailure()) return;
  }
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

TEST_F(RocksDBKVStoreTest, ConcurrentGetsSeeTheStoreAsOfTheirCall) {
  const std::string path = directory_.path("db");
  auto body = [path] { return concurrent_gets(path); };
  EXPECT_EQ(run_real(body), errc::success);
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
  EXPECT_EQ(run_real(body), errc::success);
}

Future<Void> fill_and_flush(std::string directory, std::string checkpoint) {
  std::unique_ptr<IKeyValueStore> store = co_await open_rocksdb_kv_store(directory);
  for (int i = 0; i < 3000; ++i) store->set("key" + std::to_string(100000 + i), std::string(100, 'v'));
  Future<Void> committed = store->commit();
  co_await committed;
  co_await store->checkpoint(checkpoint);  // flushes the memtable: every pair is in an SST
  co_return Void{};
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
  ASSERT_EQ(run_real(fill), errc::success);
  // Corrupt the checkpoint (a closed database of SSTs only; the original shares its files by hard link).
  ASSERT_GT(corrupt_sst_files(checkpoint), 0);
  auto read = [checkpoint] { return read_everything(checkpoint); };
  EXPECT_EQ(run_real(read), errc::checksum_failed);
}

}  // namespace
}  // namespace keel

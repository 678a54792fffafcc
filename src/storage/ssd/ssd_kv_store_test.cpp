// Tests of the ssd engine beyond the conformance suites (kv_store_real_test.cpp runs those):
// long keys sharing the record prefix, map growth, checkpoints, corruption found at open and at
// read, a truncated file, and the refusal to run in simulation.
#include "storage/ssd/ssd_kv_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "runtime/knobs.h"
#include "storage/real_disk_test_support.h"
#include "storage/ssd/ssd_format.h"
#include "storage/ssd/ssd_knobs.h"
#include "storage/storage_test_support.h"

namespace keel {
namespace {

using testing::Model;
using testing::read_all;
using testing::run_real;

class SsdKVStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ssd_kv_store_knobs();  // declared, so reset with the others
    knob_registry().reset_defaults();
  }
  void TearDown() override { knob_registry().reset_defaults(); }
  std::string data_file() const { return directory_ + "/data.mdb"; }
  testing::TemporaryDirectory temporary_{"keel-ssd-test-"};
  const std::string directory_ = temporary_.path();
};

// Keys around the record prefix length, sharing it, so many keys live in one record.
Key long_key(DeterministicRandom& random) {
  const size_t base = ssd_format::record_key_bytes_max;
  Key key(base - 2 + static_cast<size_t>(random.random_int(0, 4)), 'k');
  if (random.coin(0.5)) key += std::string(static_cast<size_t>(random.random_int(1, 3)), static_cast<char>('a' + random.random_int(0, 3)));
  if (random.coin(0.2)) key[static_cast<size_t>(random.random_int(0, 3))] = 'j';
  return key;
}

Future<Void> long_keys(std::string directory) {
  DeterministicRandom random(42);
  std::unique_ptr<IKeyValueStore> store = co_await open_ssd_kv_store(directory);
  Model model;
  for (int step = 0; step < 3000; ++step) {
    const double choice = random.random01();
    if (choice < 0.5) {
      const Key key = long_key(random);
      store->set(key, std::to_string(step));
      model[key] = std::to_string(step);
    } else if (choice < 0.6) {
      const Key key = long_key(random);
      store->clear(key);
      model.erase(key);
    } else if (choice < 0.65) {
      Key a = long_key(random);
      Key b = long_key(random);
      if (b < a) std::swap(a, b);
      store->clear_range(KeyRange{a, b});
      testing::model_clear_range(model, KeyRange{a, b});
    } else {
      const Key begin = random.coin(0.5) ? long_key(random) : Key();
      const bool reverse = random.coin(0.5);
      const int limit = static_cast<int>(random.random_int(1, 30));
      const KeyRange range{begin, Key(1, 'l')};
      std::vector<KeyValue> read = co_await store->get_range(range, limit, reverse, 1 << 20);
      EXPECT_EQ(read, testing::model_range(model, range, limit, reverse, 1 << 20)) << "step " << step;
      const Key key = long_key(random);
      std::optional<Value> value = co_await store->get(key);
      EXPECT_EQ(value.has_value(), model.contains(key)) << "step " << step;
    }
    if (random.coin(0.05)) {
      Future<Void> committed = store->commit();
      co_await committed;
      EXPECT_EQ(store->logical_bytes(), testing::model_bytes(model));
    }
  }
  Future<Void> committed = store->commit();
  co_await committed;
  store.reset();
  std::unique_ptr<IKeyValueStore> reopened = co_await open_ssd_kv_store(directory);
  Model recovered = co_await read_all(*reopened);
  EXPECT_TRUE(recovered == model) << testing::describe(recovered) << " expected " << testing::describe(model);
  co_return Void{};
}

TEST_F(SsdKVStoreTest, LongKeysSharingARecordMatchAModel) {
  run_real([&] { return long_keys(directory_); });
}

Future<Void> write_megabytes(std::string directory, int megabytes) {
  std::unique_ptr<IKeyValueStore> store = co_await open_ssd_kv_store(directory);
  for (int i = 0; i < megabytes * 10; ++i) {
    store->set("key" + std::to_string(i), std::string(100'000, static_cast<char>('a' + i % 26)));
    if (i % 7 == 0) {
      Future<Void> committed = store->commit();
      co_await committed;
    }
  }
  Future<Void> committed = store->commit();
  co_await committed;
  EXPECT_EQ(store->logical_bytes(), static_cast<int64_t>(megabytes) * 10 * 100'000 + [&] {
    int64_t keys = 0;
    for (int i = 0; i < megabytes * 10; ++i) keys += static_cast<int64_t>(("key" + std::to_string(i)).size());
    return keys;
  }());
  const EngineMetrics metrics = store->metrics();
  EXPECT_GT(metrics.device_bytes_written, metrics.logical_bytes_written / 2);
  store.reset();
  std::unique_ptr<IKeyValueStore> reopened = co_await open_ssd_kv_store(directory);
  std::optional<Value> last = co_await reopened->get("key" + std::to_string(megabytes * 10 - 1));
  EXPECT_TRUE(last.has_value());
  co_return Void{};
}

TEST_F(SsdKVStoreTest, TheMapGrowsAsNeeded) {
  ssd_kv_store_knobs().map_bytes_initial = 1 << 20;
  run_real([&] { return write_megabytes(directory_, 8); });
  EXPECT_GT(std::filesystem::file_size(data_file()), 8u * 1000 * 1000);
}

Future<Void> checkpoint_then_write(std::string directory, std::string checkpoint, Model* at_checkpoint) {
  std::unique_ptr<IKeyValueStore> store = co_await open_ssd_kv_store(directory);
  for (int i = 0; i < 100; ++i) store->set("k" + std::to_string(i), "v" + std::to_string(i));
  Future<Void> committed = store->commit();
  co_await committed;
  *at_checkpoint = co_await read_all(*store);
  store->set("buffered", "not in the checkpoint");
  Future<Void> copied = store->checkpoint(checkpoint);
  co_await copied;
  store->clear_range(KeyRange{"k", "l"});
  Future<Void> later = store->commit();
  co_await later;
  co_return Void{};
}

Future<Void> read_checkpoint(std::string checkpoint, Model* read) {
  std::unique_ptr<IKeyValueStore> store = co_await open_ssd_kv_store(checkpoint);
  *read = co_await read_all(*store);
  EXPECT_EQ(store->logical_bytes(), testing::model_bytes(*read));
  co_return Void{};
}

TEST_F(SsdKVStoreTest, CheckpointIsTheLastCommit) {
  const std::string checkpoint = directory_ + "-checkpoint";
  Model at_checkpoint;
  Model read;
  run_real([&] { return checkpoint_then_write(directory_, checkpoint, &at_checkpoint); });
  run_real([&] { return read_checkpoint(checkpoint, &read); });
  std::filesystem::remove_all(checkpoint);
  EXPECT_EQ(read.size(), 100u);
  EXPECT_TRUE(read == at_checkpoint);
}

Future<Void> write_some(std::string directory) {
  std::unique_ptr<IKeyValueStore> store = co_await open_ssd_kv_store(directory);
  for (int i = 0; i < 2000; ++i) store->set("key" + std::to_string(i), "value-" + std::to_string(i) + "-ok");
  Future<Void> committed = store->commit();
  co_await committed;
  co_return Void{};
}

Future<Void> expect_error(std::string directory, int expected, bool at_read) {
  try {
    std::unique_ptr<IKeyValueStore> store = co_await open_ssd_kv_store(directory);
    EXPECT_TRUE(at_read) << "opened corrupt data";
    Model read = co_await read_all(*store);
    ADD_FAILURE() << "read corrupt data: " << read.size() << " keys";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), expected) << error.describe();
  }
  co_return Void{};
}

// Flips a bit in the stored value of key1234.
void corrupt_one_value(const std::string& path) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const size_t at = bytes.find("value-1234-ok");
  ASSERT_NE(at, std::string::npos);
  file.seekp(static_cast<std::streamoff>(at + 7));
  file.put('5');
}

TEST_F(SsdKVStoreTest, CorruptValueFailsAtOpen) {
  run_real([&] { return write_some(directory_); });
  corrupt_one_value(data_file());
  run_real([&] { return expect_error(directory_, errc::checksum_failed, false); });
}

TEST_F(SsdKVStoreTest, CorruptValueFailsAtReadWithoutTheOpenScan) {
  run_real([&] { return write_some(directory_); });
  corrupt_one_value(data_file());
  ssd_kv_store_knobs().verify_at_open_bytes_max = 0;
  run_real([&] { return expect_error(directory_, errc::checksum_failed, true); });
}

TEST_F(SsdKVStoreTest, TruncatedFileFailsAtOpen) {
  run_real([&] { return write_some(directory_); });
  std::filesystem::resize_file(data_file(), std::filesystem::file_size(data_file()) / 2);
  run_real([&] { return expect_error(directory_, errc::checksum_failed, false); });
}

TEST(SsdKVStoreSimulationTest, RefusesToRunInSimulation) {
  testing::OpenStore open = [] { return open_ssd_kv_store("data"); };
  EXPECT_EQ(testing::open_error_in_simulation(open), errc::invalid_option_value);
  EXPECT_FALSE(std::filesystem::exists("data/data.mdb"));
}

}  // namespace
}  // namespace keel

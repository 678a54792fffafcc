// The memory engine's files in a simulated directory: generations, snapshot and log corruption,
// torn tails and leftovers of interrupted snapshot switches (the conformance suite, in
// storage/kv_store_test.cpp, covers behaviour every engine shares).
#include "storage/memory/memory_kv_store.h"

#include <gtest/gtest.h>

#include <map>
#include <variant>

#include "storage/memory/memory_format.h"
#include "storage/memory/memory_knobs.h"
#include "storage/storage_test_support.h"

namespace keel {
namespace {

namespace format = memory_format;
using testing::Model;
using testing::read_all;
using testing::run_in_process;

const std::string directory = "data";

class MemoryKVStoreTest : public ::testing::Test {
 protected:
  MemoryKVStoreTest() : simulator_(1, false), machine_(simulator_.add_machine("storage")) {}

  // Every commit installs a snapshot, or none does (but the first, made when the store is created).
  void snapshot_every_commit(bool every) {
    memory_kv_store_knobs().snapshot_log_ratio = every ? 0.0 : 1e9;
    memory_kv_store_knobs().snapshot_log_bytes_min = every ? 0.0 : 1e18;
  }

  // Opens the store, makes `commits` commits of a few writes each, and closes it. `states[i]` is
  // the data after commit i (states[0]: as opened).
  void write_commits(int commits, std::vector<Model>& states) {
    run_in_process(simulator_, machine_, [&]() -> Future<Void> { return write_commits_in_process(commits, &states, this); });
  }
  static Future<Void> write_commits_in_process(int commits, std::vector<Model>* states, MemoryKVStoreTest* test) {
    std::unique_ptr<IKeyValueStore> store = co_await open_memory_kv_store(directory);
    Model model = co_await read_all(*store);
    states->push_back(model);
    const int first = static_cast<int>(model.size());
    for (int i = first; i < first + commits; ++i) {
      const std::string key = "key" + std::to_string(i);
      const std::string value(static_cast<size_t>(100 + 37 * i), static_cast<char>('a' + i % 26));
      store->set(key, value);
      model[key] = value;
      if (i % 3 == 2) {
        const KeyRange oldest{"key" + std::to_string(i - 2), "key" + std::to_string(i - 1)};
        store->clear_range(oldest);
        model.erase(oldest.begin);
      }
      Future<Void> committed = store->commit();
      co_await committed;
      states->push_back(model);
    }
    EXPECT_EQ(store->disk_bytes(), test->bytes_in_directory());
    co_return Void{};
  }
  int64_t bytes_in_directory() const {
    int64_t bytes = 0;
    for (const std::string& name : files()) {
      bytes += static_cast<int64_t>(machine_.disk.find(directory + "/" + name)->current.size());
    }
    return bytes;
  }

  // Opens the store: the data it holds, or the error code opening failed with.
  std::variant<Model, int> open() {
    std::variant<Model, int> result;
    run_in_process(simulator_, machine_, [&]() -> Future<Void> { return open_in_process(&result); });
    return result;
  }
  static Future<Void> open_in_process(std::variant<Model, int>* result) {
    try {
      std::unique_ptr<IKeyValueStore> store = co_await open_memory_kv_store(directory);
      *result = co_await read_all(*store);
    } catch (const Error& error) {
      *result = error.code();
    }
    co_return Void{};
  }

  std::vector<std::string> files() const { return machine_.disk.list(directory); }
  std::string only_file(format::FileKind kind) const {
    std::string found;
    for (const std::string& name : files()) {
      std::optional<format::FileName> parsed = format::parse_file_name(name);
      if (parsed && parsed->kind == kind) {
        EXPECT_TRUE(found.empty()) << "two files of one kind: " << found << ", " << name;
        found = name;
      }
    }
    EXPECT_FALSE(found.empty());
    return directory + "/" + found;
  }
  sim::SimFileData& file_data(const std::string& path) {
    std::shared_ptr<sim::SimFileData> data = machine_.disk.find(path);
    KEEL_ASSERT(data != nullptr && data->unsynced.empty());
    return *data;
  }
  void flip_bit(const std::string& path, uint64_t bit) {
    sim::SimFileData& data = file_data(path);
    data.durable[bit / 8] = static_cast<char>(data.durable[bit / 8] ^ (1 << (bit % 8)));
    data.current = data.durable;
  }
  // Offsets of the records of the log, read with the salt of its snapshot.
  std::vector<uint64_t> log_record_starts() {
    const format::Snapshot snapshot = format::decode_snapshot(file_data(only_file(format::FileKind::snapshot)).current);
    const std::string& log = file_data(only_file(format::FileKind::log)).current;
    std::vector<uint64_t> starts;
    uint64_t at = 0;
    format::scan_log(log, snapshot.log_salt, [&](std::string_view payload) {
      starts.push_back(at);
      at += format::log_record_header_bytes + payload.size();
    });
    return starts;
  }

  sim::Simulator simulator_;
  sim::SimMachine& machine_;
};

TEST_F(MemoryKVStoreTest, OnlyTheCurrentGenerationRemainsAndEverySnapshotIsNewer) {
  snapshot_every_commit(true);
  std::vector<Model> states;
  write_commits(5, states);
  // Generation 1 was made at creation, then one per commit.
  EXPECT_EQ(files(), (std::vector<std::string>{format::file_name(format::FileKind::log, 6),
                                               format::file_name(format::FileKind::snapshot, 6)}));
  EXPECT_EQ(file_data(only_file(format::FileKind::log)).current.size(), 0u);
  EXPECT_EQ(open(), (std::variant<Model, int>(states.back())));
  snapshot_every_commit(false);
  states.clear();
  write_commits(4, states);
  EXPECT_EQ(log_record_starts().size(), 4u);
  EXPECT_EQ(open(), (std::variant<Model, int>(states.back())));
}

TEST_F(MemoryKVStoreTest, AnyBitFlipInTheSnapshotFailsOpen) {
  snapshot_every_commit(true);
  std::vector<Model> states;
  write_commits(6, states);
  const std::string snapshot = only_file(format::FileKind::snapshot);
  DeterministicRandom random(7);
  for (int trial = 0; trial < 20; ++trial) {
    const auto bit = static_cast<uint64_t>(random.random_int(0, static_cast<int64_t>(file_data(snapshot).current.size() * 8)));
    flip_bit(snapshot, bit);
    EXPECT_EQ(open(), (std::variant<Model, int>(errc::checksum_failed))) << "bit " << bit;
    flip_bit(snapshot, bit);
    EXPECT_EQ(open(), (std::variant<Model, int>(states.back()))) << "bit " << bit;
  }
}

TEST_F(MemoryKVStoreTest, BitRotInAnEarlierLogRecordFailsOpenAndInTheLastDropsIt) {
  snapshot_every_commit(false);
  std::vector<Model> states;
  write_commits(8, states);
  const std::string log = only_file(format::FileKind::log);
  const std::vector<uint64_t> starts = log_record_starts();
  ASSERT_EQ(starts.size(), 8u);
  DeterministicRandom random(11);
  for (int trial = 0; trial < 30; ++trial) {
    const auto bit = static_cast<uint64_t>(random.random_int(0, static_cast<int64_t>(starts.back() * 8)));
    flip_bit(log, bit);
    EXPECT_EQ(open(), (std::variant<Model, int>(errc::checksum_failed))) << "bit " << bit;
    flip_bit(log, bit);
  }
  const uint64_t last_record_bits = (file_data(log).current.size() - starts.back()) * 8;
  flip_bit(log, starts.back() * 8 + static_cast<uint64_t>(random.random_int(0, static_cast<int64_t>(last_record_bits))));
  EXPECT_EQ(open(), (std::variant<Model, int>(states[states.size() - 2])));
  EXPECT_EQ(file_data(log).current.size(), starts.back());
}

TEST_F(MemoryKVStoreTest, ATornTailIsCutOffDurablyAndTheLogContinuesAfterIt) {
  snapshot_every_commit(false);
  std::vector<Model> states;
  write_commits(5, states);
  const std::string log = only_file(format::FileKind::log);
  const std::vector<uint64_t> starts = log_record_starts();
  sim::SimFileData& data = file_data(log);
  data.durable.resize(starts.back() + 20);
  data.current = data.durable;
  std::vector<Model> more;
  write_commits(3, more);  // opens on the state before the torn commit
  EXPECT_EQ(more.front(), states[states.size() - 2]);
  EXPECT_EQ(log_record_starts().size(), 4u + 3u);
  EXPECT_EQ(open(), (std::variant<Model, int>(more.back())));
}

TEST_F(MemoryKVStoreTest, LeftoversOfAnInterruptedSwitchAreDeleted) {
  snapshot_every_commit(false);
  std::vector<Model> states;
  write_commits(3, states);
  // A crash while writing snapshot 2, and files of a generation 0 never deleted.
  machine_.disk.create(directory + "/" + format::file_name(format::FileKind::temporary_snapshot, 2))->current = "partial";
  machine_.disk.create(directory + "/" + format::file_name(format::FileKind::log, 0))->current = "old";
  machine_.disk.create(directory + "/" + format::file_name(format::FileKind::snapshot, 0))->current = "old";
  machine_.disk.create(directory + "/UNRELATED");
  EXPECT_EQ(open(), (std::variant<Model, int>(states.back())));
  EXPECT_EQ(files(), (std::vector<std::string>{"UNRELATED", format::file_name(format::FileKind::log, 1),
                                               format::file_name(format::FileKind::snapshot, 1)}));
}

TEST_F(MemoryKVStoreTest, ALogWithoutItsSnapshotFailsOpen) {
  snapshot_every_commit(false);
  std::vector<Model> states;
  write_commits(2, states);
  ASSERT_TRUE(machine_.disk.remove(only_file(format::FileKind::snapshot)));
  EXPECT_EQ(open(), (std::variant<Model, int>(errc::checksum_failed)));
}

}  // namespace
}  // namespace keel

#include "sim/sim_disk.h"

#include <gtest/gtest.h>

namespace keel::sim {
namespace {

TEST(SimDiskTest, SyncedDataSurvivesPowerLoss) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    DeterministicRandom random(seed);
    SimFileData file;
    file.write(0, std::string(2048, 'a'));
    file.sync();
    file.write(0, std::string(2048, 'b'));
    file.write(4096, std::string(100, 'c'));
    file.crash(random);
    ASSERT_GE(file.current.size(), 2048u) << "seed " << seed;
    // Every sector of the first 2048 bytes is either wholly old or wholly new: never mixed.
    for (int64_t sector = 0; sector < 2048; sector += sector_bytes) {
      const std::string bytes = file.current.substr(static_cast<size_t>(sector), sector_bytes);
      EXPECT_TRUE(bytes == std::string(sector_bytes, 'a') || bytes == std::string(sector_bytes, 'b'))
          << "seed " << seed << " sector " << sector;
    }
    EXPECT_EQ(file.current, file.durable);
    EXPECT_TRUE(file.unsynced.empty());
  }
}

// A sync covers the operations issued before it started, as fdatasync does: a write made while
// it runs stays exposed to power loss.
TEST(SimDiskTest, SyncCoversOnlyWhatWasIssuedBeforeIt) {
  bool later_write_lost = false;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    DeterministicRandom random(seed);
    SimFileData file;
    file.write(0, std::string(sector_bytes, 'a'));
    file.truncate(2 * sector_bytes);
    const uint64_t started = file.issued;
    file.write(2 * sector_bytes, std::string(sector_bytes, 'b'));
    file.sync_through(started);
    ASSERT_EQ(file.durable, std::string(sector_bytes, 'a') + std::string(sector_bytes, '\0')) << "seed " << seed;
    ASSERT_EQ(file.unsynced.size(), 1u) << "seed " << seed;
    file.sync_through(started);  // a second sync that started as early changes nothing
    ASSERT_EQ(file.unsynced.size(), 1u) << "seed " << seed;
    file.crash(random);
    ASSERT_EQ(file.current.substr(0, 2 * sector_bytes), std::string(sector_bytes, 'a') + std::string(sector_bytes, '\0'))
        << "seed " << seed;
    if (file.current.size() == 2 * sector_bytes) later_write_lost = true;
    file.write(0, "c");
    file.sync();
    EXPECT_EQ(file.durable, file.current) << "seed " << seed;
    EXPECT_TRUE(file.unsynced.empty()) << "seed " << seed;
  }
  EXPECT_TRUE(later_write_lost);
}

TEST(SimDiskTest, UnsyncedWritesAreSometimesLostSometimesKeptSometimesTorn) {
  int lost = 0, kept = 0, torn = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    DeterministicRandom random(seed);
    SimFileData file;
    file.write(0, std::string(4 * sector_bytes, 'n'));
    file.crash(random);
    const auto new_sectors = std::count(file.current.begin(), file.current.end(), 'n') / sector_bytes;
    if (new_sectors == 0) ++lost;
    else if (new_sectors == 4) ++kept;
    else ++torn;
  }
  EXPECT_GT(lost, 0);
  EXPECT_GT(kept, 0);
  EXPECT_GT(torn, 0);
}

TEST(SimDiskTest, DirectoryOperations) {
  SimDisk disk;
  disk.create_directories("data/sub");
  disk.create("data/b");
  disk.create("data/a");
  disk.create("data/sub/c");
  EXPECT_EQ(disk.list("data"), (std::vector<std::string>{"a", "b", "sub"}));
  EXPECT_TRUE(disk.rename("data/a", "data/z"));
  EXPECT_FALSE(disk.rename("data/a", "data/y"));
  EXPECT_EQ(disk.find("data/a"), nullptr);
  EXPECT_NE(disk.find("data/z"), nullptr);
  EXPECT_TRUE(disk.remove("data/z"));
  EXPECT_FALSE(disk.remove("data/z"));
  EXPECT_FALSE(disk.remove_directory("data/sub"));  // holds c
  EXPECT_TRUE(disk.remove("data/sub/c"));
  EXPECT_TRUE(disk.remove_directory("data/sub"));
  EXPECT_FALSE(disk.directory_exists("data/sub"));
  EXPECT_FALSE(disk.remove_directory("data/sub"));
  EXPECT_EQ(disk.list("data"), (std::vector<std::string>{"b"}));
}

TEST(SimDiskTest, BitRotFlipsExactlyOneBit) {
  DeterministicRandom random(5);
  SimDisk disk;
  auto file = disk.create("f");
  file->write(0, std::string(1000, '\0'));
  file->sync();
  ASSERT_TRUE(disk.rot_one_bit(random));
  int bits = 0;
  for (char byte : file->current) bits += __builtin_popcount(static_cast<unsigned char>(byte));
  EXPECT_EQ(bits, 1);
}

}  // namespace
}  // namespace keel::sim

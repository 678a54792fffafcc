// LmdbStore directly (it blocks, so no world is needed): closing and opening the environment
// after a large commit keeps every committed key readable, also for reads running meanwhile.
#include "storage/ssd/lmdb_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "storage/real_disk_test_support.h"
#include "storage/storage_test_support.h"

namespace keel::ssd {
namespace {

Key key_of(int index) { return fmt::format("key/{:08}", index * 7919 % 100003); }

Overlay overlay_of(int first, int count) {
  Overlay overlay;
  for (int i = first; i < first + count; ++i) overlay.set(key_of(i), fmt::format("value {}", i));
  return overlay;
}

TEST(LmdbStoreTest, LargeCommitsReopenTheEnvironmentAndKeepTheirData) {
  testing::TemporaryDirectory temporary{"keel-lmdb-test-"};
  LmdbOptions options;
  options.reopen_after_dirty_bytes = 64 * 4096;  // about 64 records
  LmdbStore store(temporary.path(), options);
  store.open();
  const Overlay small = overlay_of(0, 10);
  EXPECT_EQ(store.commit({&small}).environment_reopens, 0);

  // A reader keeps reading committed keys while later commits close and open the environment.
  std::atomic<bool> stop = false;
  std::atomic<int> read_errors = 0;
  std::atomic<int> reads = 0;
  std::thread reader([&] {
    while (!stop) {
      try {
        if (store.get(key_of(reads % 10)) != fmt::format("value {}", reads % 10)) ++read_errors;
      } catch (const Error&) {
        ++read_errors;
      }
      ++reads;
    }
  });
  int reopens = 0;
  for (int batch = 0; batch < 20; ++batch) {
    const Overlay large = overlay_of(10 + batch * 500, 500);
    reopens += store.commit({&large}).environment_reopens;
  }
  stop = true;
  reader.join();
  EXPECT_EQ(reopens, 20);
  EXPECT_EQ(read_errors, 0) << "of " << reads << " reads";
  for (int i = 0; i < 10 + 20 * 500; ++i) ASSERT_EQ(store.get(key_of(i)), fmt::format("value {}", i)) << i;
  EXPECT_EQ(store.commit({&small}).environment_reopens, 0);
}

}  // namespace
}  // namespace keel::ssd

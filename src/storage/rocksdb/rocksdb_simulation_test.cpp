// The rocksdb engine touches the real disk and blocks threads: it must refuse to open in a
// simulated process, with a clear error, rather than break determinism.
#include <gtest/gtest.h>

#include "storage/rocksdb/rocksdb_kv_store.h"
#include "storage/storage_test_support.h"

namespace keel {
namespace {

TEST(RocksDBKVStoreSimulationTest, RefusesToOpenInSimulation) {
  testing::OpenStore open = [] { return open_rocksdb_kv_store("data"); };
  EXPECT_EQ(testing::open_error_in_simulation(open), errc::invalid_option_value);
}

}  // namespace
}  // namespace keel

// The rocksdb engine touches the real disk and blocks threads: it must refuse to open in a
// simulated process, with a clear error, rather than break determinism.
#include <gtest/gtest.h>

#include "storage/rocksdb/rocksdb_kv_store.h"
#include "storage/storage_test_support.h"

namespace keel {
namespace {

Future<Void> open_in_simulation(int* code) {
  try {
    std::unique_ptr<IKeyValueStore> store = co_await open_rocksdb_kv_store("data");
    ADD_FAILURE() << "the rocksdb engine opened in simulation";
  } catch (const Error& error) {
    *code = error.code();
  }
  co_return Void{};
}

TEST(RocksDBKVStoreSimulationTest, RefusesToOpenInSimulation) {
  sim::Simulator simulator(1, false);
  sim::SimMachine& machine = simulator.add_machine("storage");
  int code = errc::success;
  testing::run_in_process(simulator, machine, [&code] { return open_in_simulation(&code); });
  EXPECT_EQ(code, errc::invalid_option_value);
}

}  // namespace
}  // namespace keel

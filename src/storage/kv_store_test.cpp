// The IKeyValueStore conformance suite: every engine must pass it (the contract of kv_store.h).
// Engines reach files only through the world, so each test runs the engine inside a simulated
// process: random operations checked against a std::map model; crashes (process kills and power
// loss) at random moments, after which every acknowledged commit must be there and every commit
// must be all there or not at all; and bit rot, which must be reported, never returned as data.
// The tests are parameterized by engine name; tests of an engine's files sit in its folder.
#include "storage/kv_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <deque>
#include <functional>
#include <map>

#include "sim/simulator.h"
#include "storage/memory/memory_knobs.h"
#include "storage/storage_test_support.h"

namespace keel {
namespace {

using testing::all_keys_end;
using testing::describe;
using testing::Model;
using testing::model_bytes;
using testing::random_step;
using testing::read_all;
using testing::run_for;
using testing::run_in_process;

const std::string directory = "data";

// Engine knobs that make rare paths common (for the memory engine: snapshots and group commit).
void configure_engine(const std::string& engine, DeterministicRandom& random) {
  if (engine == "memory") {
    MemoryKVStoreKnobs& knobs = memory_kv_store_knobs();
    const double ratios[] = {0.1, 0.5, 2.0, 8.0};
    const double bytes_min[] = {0, 2000, 1 << 20};
    const double group_bytes[] = {1, 1000, 4 << 20};
    knobs.snapshot_log_ratio = ratios[random.random_int(0, 4)];
    knobs.snapshot_log_bytes_min = bytes_min[random.random_int(0, 3)];
    knobs.commit_group_bytes_max = group_bytes[random.random_int(0, 3)];
  }
}

// True for an engine that cannot tell bit rot in its last log record from a torn write, and so
// may lose exactly its last commit to it (memory_format.h explains why the memory engine must).
bool may_lose_last_commit_to_bit_rot(const std::string& engine) { return engine == "memory"; }

class KVStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { memory_kv_store_knobs(); }  // declared before the simulator resets knobs
  const std::string& engine() const { return GetParam(); }
};

// ---- Random operations against the model ----

// The memory engine counts buffered writes at once: logical_bytes() must match after every step.
Future<Void> random_operations(std::string engine, uint64_t seed, int steps) {
  testing::RandomOperationsOptions options;
  options.steps = steps;
  options.logical_bytes = testing::LogicalBytesCheck::every_step;
  testing::OpenStore open = [engine] { return open_kv_store(engine, directory); };
  return testing::random_operations(open, seed, options);
}

TEST_P(KVStoreTest, RandomOperationsMatchAModel) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    sim::Simulator simulator(seed, seed % 2 == 0);
    configure_engine(engine(), simulator.random());
    sim::SimMachine& machine = simulator.add_machine("storage");
    run_in_process(simulator, machine, [&] { return random_operations(engine(), seed, 2000); });
  }
}

Future<Void> empty_and_edge_cases(std::string engine) {
  std::unique_ptr<IKeyValueStore> store = co_await open_kv_store(engine, directory);
  Future<Void> empty_commit = store->commit();
  co_await empty_commit;
  store->set("", "empty key");
  store->set("\xff\xff", "");
  store->set("b", "2");
  KeyRange inverted{"z", "a"};
  store->clear_range(inverted);  // empty: clears nothing
  std::vector<KeyValue> none = co_await store->get_range(inverted, 10);
  EXPECT_TRUE(none.empty());
  KeyRange everything{Key(), all_keys_end};
  std::vector<KeyValue> zero_limit = co_await store->get_range(everything, 0);
  EXPECT_TRUE(zero_limit.empty());
  std::vector<KeyValue> one_byte = co_await store->get_range(everything, 10, false, 1);
  EXPECT_EQ(one_byte.size(), 1u);  // at least one pair even past the byte limit
  std::vector<KeyValue> last = co_await store->get_range(everything, 1, true);
  EXPECT_EQ(last, (std::vector<KeyValue>{KeyValue{"\xff\xff", ""}}));
  Future<Void> committed = store->commit();
  co_await committed;
  store.reset();
  std::unique_ptr<IKeyValueStore> reopened = co_await open_kv_store(engine, directory);
  std::optional<Value> empty_key = co_await reopened->get("");
  EXPECT_EQ(empty_key, std::optional<Value>("empty key"));
  std::optional<Value> empty_value = co_await reopened->get("\xff\xff");
  EXPECT_EQ(empty_value, std::optional<Value>(""));
  co_return Void{};
}

TEST_P(KVStoreTest, EmptyKeysValuesRangesAndLimits) {
  sim::Simulator simulator(1, false);
  sim::SimMachine& machine = simulator.add_machine("storage");
  run_in_process(simulator, machine, [&] { return empty_and_edge_cases(engine()); });
}

// ---- Crashes ----

// What a crash test knows across the process's deaths.
struct CrashState {
  std::string engine;
  DeterministicRandom random;
  // [0]: the data after the last acknowledged commit; then the data after each commit in flight.
  std::deque<Model> candidates{Model{}};
  int recoveries = 0;
  bool failed = false;
};

// Opens the store and checks that it recovered the data after some commit between the last
// acknowledged one and the last one made; that becomes the only candidate.
Future<std::unique_ptr<IKeyValueStore>> open_and_check(CrashState* state, Model* model) {
  std::unique_ptr<IKeyValueStore> store = co_await open_kv_store(state->engine, directory);
  *model = co_await read_all(*store);
  if (std::find(state->candidates.begin(), state->candidates.end(), *model) == state->candidates.end()) {
    ADD_FAILURE() << "recovery " << state->recoveries << " found " << describe(*model) << "; last acknowledged "
                  << describe(state->candidates.front()) << " (" << state->candidates.size() - 1
                  << " commits in flight)";
    state->failed = true;
  } else if (store->logical_bytes() != model_bytes(*model)) {
    ADD_FAILURE() << "logical_bytes " << store->logical_bytes() << " after recovery, expected " << model_bytes(*model);
    state->failed = true;
  }
  state->candidates = {*model};
  ++state->recoveries;
  co_return std::move(store);
}

// The life of the storage process: open and check what was recovered, then write and commit at
// random until killed, now and then closing and reopening the store once its commits are done.
Future<Void> crash_workload(CrashState* state) {
  try {
    DeterministicRandom& random = state->random;
    while (!state->failed) {
      Model model;
      std::unique_ptr<IKeyValueStore> store = co_await open_and_check(state, &model);
      std::deque<Future<Void>> commits;
      bool reopen = false;
      while (!reopen && !state->failed) {
        const bool matched = co_await random_step(*store, model, random);
        if (!matched) state->failed = true;
        if (random.coin(0.15)) {
          commits.push_back(store->commit());
          state->candidates.push_back(model);
        }
        reopen = random.coin(0.003);
        while (!commits.empty() && (reopen || commits.size() > 3 || random.coin(0.3))) {
          co_await commits.front();
          commits.pop_front();
          state->candidates.pop_front();
        }
        if (random.coin(0.02)) co_await delay(random.random01() * 0.005);
      }
    }
  } catch (const Error& error) {
    ADD_FAILURE() << "storage process failed: " << error.describe();
    state->failed = true;
  }
  co_return Void{};
}

TEST_P(KVStoreTest, CommittedWritesSurviveCrashesAndCommitsAreAtomic) {
  constexpr int crashes = 12;
  int power_losses = 0;
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    CrashState state{engine(), DeterministicRandom(seed * 1000003)};
    sim::Simulator simulator(seed, seed % 2 == 0);
    configure_engine(engine(), simulator.random());
    sim::SimMachine& machine = simulator.add_machine("storage");
    sim::SimProcess& process = simulator.add_process(machine, "storage", [&state] { return crash_workload(&state); });
    for (int crash = 0; crash < crashes && !state.failed; ++crash) {
      // Mostly short lives, so crashes also hit recovery and the first snapshot.
      run_for(simulator, state.random.coin(0.2) ? state.random.random01() * 0.002 : state.random.random01() * 0.05);
      if (state.random.coin(0.6)) {
        ++power_losses;
        simulator.power_cycle(machine, 0.001);
      } else {
        simulator.reboot(process, sim::KillKind::process, 0.001);
      }
    }
    run_for(simulator, 1.0);
    ASSERT_FALSE(state.failed);
    // Every boot recovered, except those killed before they finished opening.
    EXPECT_GE(state.recoveries, 1);
  }
  EXPECT_GT(power_losses, 0);
}

// ---- Bit rot ----

struct RotState {
  Model before_last_commit;
  Model after_last_commit;
};

Future<Void> write_and_close(std::string engine, uint64_t seed, RotState* state) {
  DeterministicRandom random(seed);
  std::unique_ptr<IKeyValueStore> store = co_await open_kv_store(engine, directory);
  Model model;
  for (int commit = 0; commit < 20; ++commit) {
    const auto writes = random.random_int(1, 20);
    for (int64_t i = 0; i < writes; ++i) {
      const bool matched = co_await random_step(*store, model, random);
      if (!matched) co_return Void{};
    }
    state->before_last_commit = state->after_last_commit;
    // A commit that adds nothing would make the two states equal and the check weaker.
    store->set("commit", std::to_string(commit));
    model["commit"] = std::to_string(commit);
    Future<Void> committed = store->commit();
    co_await committed;
    state->after_last_commit = model;
  }
  co_return Void{};
}

// Opens and reads everything: the data read (nullopt after checksum_failed, which it reports).
Future<Void> open_after_rot(std::string engine, std::optional<Model>* read) {
  try {
    std::unique_ptr<IKeyValueStore> store = co_await open_kv_store(engine, directory);
    *read = co_await read_all(*store);
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::checksum_failed) << error.describe();
    read->reset();
  }
  co_return Void{};
}

TEST_P(KVStoreTest, BitRotIsDetectedNeverReturnedAsData) {
  int detected = 0;
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    sim::Simulator simulator(seed, false);
    configure_engine(engine(), simulator.random());
    sim::SimMachine& machine = simulator.add_machine("storage");
    RotState state;
    run_in_process(simulator, machine, [&] { return write_and_close(engine(), seed, &state); });
    ASSERT_TRUE(machine.disk.rot_one_bit(simulator.random()));
    std::optional<Model> read;
    run_in_process(simulator, machine, [&] { return open_after_rot(engine(), &read); });
    if (!read) {
      ++detected;
      continue;
    }
    const bool lost_last = may_lose_last_commit_to_bit_rot(engine()) && *read == state.before_last_commit;
    EXPECT_TRUE(*read == state.after_last_commit || lost_last) << "read " << describe(*read);
  }
  EXPECT_GT(detected, 50);
}

Future<Void> open_unknown_engine(std::string engine) {
  try {
    std::unique_ptr<IKeyValueStore> store = co_await open_kv_store(engine + "-no-such-engine", directory);
    ADD_FAILURE() << "an unknown engine opened";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::invalid_option_value) << error.describe();
  }
  co_return Void{};
}

TEST_P(KVStoreTest, UnknownEngineIsAnInvalidOption) {
  sim::Simulator simulator(1, false);
  sim::SimMachine& machine = simulator.add_machine("storage");
  run_in_process(simulator, machine, [&] { return open_unknown_engine(engine()); });
}

INSTANTIATE_TEST_SUITE_P(Engines, KVStoreTest, ::testing::Values("memory"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace keel

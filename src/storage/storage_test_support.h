// Test support for storage engines: running a coroutine inside a simulated process (engines reach
// files only through the world) and letting virtual time pass; random operations checked against
// a std::map model, shared by the simulated (kv_store_test.cpp) and real-world
// (kv_store_real_test.cpp) conformance suites and the engines' own tests. Real-disk helpers:
// real_disk_test_support.h. Tests only.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <deque>
#include <functional>
#include <map>
#include <memory>

#include "runtime/combinators.h"
#include "sim/simulator.h"
#include "storage/kv_store.h"

namespace keel::testing {

using Model = std::map<Key, Value>;
// Opens (or reopens) the store under test.
using OpenStore = std::function<Future<std::unique_ptr<IKeyValueStore>>()>;

inline const Key all_keys_end(8, '\xff');  // after every key random_key makes

// ---- Random operations and the model ----

// Short keys over a small alphabet with the edge bytes, so keys collide and ranges are dense.
inline Key random_key(DeterministicRandom& random) {
  static const char alphabet[] = {'\0', 'a', 'b', 'c', '\xff'};
  Key key;
  const auto length = random.random_int(0, 4);
  for (int64_t i = 0; i < length; ++i) key.push_back(alphabet[random.random_int(0, 5)]);
  return key;
}

// Mostly small values, some spanning several disk sectors.
inline Value random_value(DeterministicRandom& random) {
  const int64_t length = random.coin(0.05) ? random.random_int(500, 5000) : random.random_int(0, 40);
  return random.random_bytes(static_cast<size_t>(length));
}

inline KeyRange random_range(DeterministicRandom& random) {
  Key a = random_key(random);
  Key b = random_key(random);
  if (random.coin(0.9) && b < a) std::swap(a, b);  // sometimes empty or inverted
  return KeyRange{a, b};
}

inline int64_t model_bytes(const Model& model) {
  int64_t bytes = 0;
  for (const auto& [key, value] : model) bytes += static_cast<int64_t>(key.size() + value.size());
  return bytes;
}

inline void model_clear_range(Model& model, const KeyRange& range) {
  if (range.empty()) return;
  model.erase(model.lower_bound(range.begin), model.lower_bound(range.end));
}

// The get_range contract, written as plainly as possible.
inline std::vector<KeyValue> model_range(const Model& model, const KeyRange& range, int limit, bool reverse,
                                         size_t bytes_limit) {
  std::vector<KeyValue> all;
  for (const auto& [key, value] : model) {
    if (range.contains(key)) all.push_back(KeyValue{key, value});
  }
  if (reverse) std::reverse(all.begin(), all.end());
  std::vector<KeyValue> result;
  size_t bytes = 0;
  for (const KeyValue& pair : all) {
    if (static_cast<int>(result.size()) >= limit || (!result.empty() && bytes >= bytes_limit)) break;
    result.push_back(pair);
    bytes += pair.key.size() + pair.value.size();
  }
  return result;
}

inline Future<Model> read_all(IKeyValueStore& store) {
  KeyRange everything{Key(), all_keys_end};
  std::vector<KeyValue> pairs = co_await store.get_range(everything, INT_MAX, false, SIZE_MAX);
  Model model;
  for (KeyValue& pair : pairs) model.emplace(std::move(pair.key), std::move(pair.value));
  co_return model;
}

inline std::string describe(const Model& model) {
  std::string text = std::to_string(model.size()) + " keys:";
  for (const auto& [key, value] : model) text += " " + std::to_string(key.size()) + "/" + std::to_string(value.size());
  return text;
}

// A random write as a mutation (set_value, or clear_range for clears of one key or a range), for
// a `choice` in [0, 0.55) drawn by the caller: 40% sets, 10% single-key clears, 5% range clears.
inline Mutation random_write(DeterministicRandom& random, double choice) {
  if (choice < 0.40) {
    Key key = random_key(random);
    Value value = random_value(random);
    return Mutation{MutationType::set_value, std::move(key), std::move(value)};
  }
  if (choice < 0.50) {
    Key key = random_key(random);
    return Mutation{MutationType::clear_range, key, key_after(key)};
  }
  KeyRange range = random_range(random);
  return Mutation{MutationType::clear_range, std::move(range.begin), std::move(range.end)};
}

inline void apply_write(Model& model, const Mutation& write) {
  if (write.type == MutationType::set_value) model[write.param1] = write.param2;
  else model_clear_range(model, KeyRange{write.param1, write.param2});
}

inline void apply_write(IKeyValueStore& store, const Mutation& write) {
  if (write.type == MutationType::set_value) {
    store.set(write.param1, write.param2);
  } else if (write.param2 == key_after(write.param1)) {
    store.clear(write.param1);
  } else {
    store.clear_range(KeyRange{write.param1, write.param2});
  }
}

// One random write or read on both the store and the model; false (after reporting) when a read
// disagrees with the model.
inline Future<bool> random_step(IKeyValueStore& store, Model& model, DeterministicRandom& random) {
  const double choice = random.random01();
  if (choice < 0.55) {
    const Mutation write = random_write(random, choice);
    apply_write(store, write);
    apply_write(model, write);
  } else if (choice < 0.70) {
    Key key = random_key(random);
    std::optional<Value> value = co_await store.get(key);
    auto it = model.find(key);
    std::optional<Value> expected = it == model.end() ? std::nullopt : std::optional<Value>(it->second);
    if (value != expected) {
      ADD_FAILURE() << "get of a key of " << key.size() << " bytes: present " << value.has_value() << ", expected "
                    << expected.has_value();
      co_return false;
    }
  } else {
    KeyRange range = random_range(random);
    const int limit = random.coin(0.2) ? static_cast<int>(random.random_int(0, 4)) : static_cast<int>(random.random_int(1, 200));
    const bool reverse = random.coin(0.5);
    const size_t bytes_limit = random.coin(0.3) ? static_cast<size_t>(random.random_int(0, 300)) : size_t{1} << 20;
    std::vector<KeyValue> pairs = co_await store.get_range(range, limit, reverse, bytes_limit);
    std::vector<KeyValue> expected = model_range(model, range, limit, reverse, bytes_limit);
    if (pairs != expected) {
      ADD_FAILURE() << "get_range(limit " << limit << ", reverse " << reverse << ", bytes_limit " << bytes_limit
                    << ") returned " << pairs.size() << " pairs, expected " << expected.size();
      co_return false;
    }
  }
  co_return true;
}

// When random_operations compares logical_bytes() with the model: after every step (an engine
// that counts buffered writes at once), or only when every write is in a completed commit (an
// engine that reports sizes as of its last completed commit).
enum class LogicalBytesCheck { every_step, when_committed };

struct RandomOperationsOptions {
  int steps = 2000;
  LogicalBytesCheck logical_bytes = LogicalBytesCheck::when_committed;
  double reopen_probability = 0;       // per step: wait for every commit, close and reopen
  bool device_bytes_written_known = false;  // metrics().device_bytes_written > 0, not just != 0
};

// Random writes and reads against the store and a model, with up to four commits in flight and
// now and then a close and reopen; then a last commit, the sizes and metrics, and a reopened
// store that must hold exactly the model.
inline Future<Void> random_operations(OpenStore open, uint64_t seed, RandomOperationsOptions options) {
  DeterministicRandom random(seed);
  std::unique_ptr<IKeyValueStore> store = co_await open();
  Model model;
  std::deque<Future<Void>> commits;
  bool written_since_commit = false;
  for (int step = 0; step < options.steps; ++step) {
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
    const bool all_committed = commits.empty() && !written_since_commit;
    if ((options.logical_bytes == LogicalBytesCheck::every_step || all_committed) &&
        store->logical_bytes() != model_bytes(model)) {
      ADD_FAILURE() << "step " << step << ": logical_bytes " << store->logical_bytes() << ", expected "
                    << model_bytes(model);
      co_return Void{};
    }
    if (options.reopen_probability > 0 && random.coin(options.reopen_probability)) {
      Future<Void> last = store->commit();  // close once every commit is done
      co_await last;
      commits.clear();
      written_since_commit = false;
      EXPECT_EQ(store->logical_bytes(), model_bytes(model)) << "step " << step;
      store.reset();
      store = co_await open();
    }
  }
  Future<Void> last = store->commit();
  co_await last;
  EXPECT_EQ(store->logical_bytes(), model_bytes(model));
  EXPECT_GT(store->disk_bytes(), 0);
  const EngineMetrics metrics = store->metrics();
  EXPECT_GT(metrics.commits, 0);
  EXPECT_GT(metrics.logical_bytes_written, 0);
  if (options.device_bytes_written_known) EXPECT_GT(metrics.device_bytes_written, 0);
  else EXPECT_NE(metrics.device_bytes_written, 0);  // -1 where the engine cannot tell
  store.reset();
  std::unique_ptr<IKeyValueStore> reopened = co_await open();
  Model recovered = co_await read_all(*reopened);
  EXPECT_TRUE(recovered == model) << "after reopening: " << describe(recovered) << "; expected " << describe(model);
  EXPECT_EQ(reopened->logical_bytes(), model_bytes(model));
  co_return Void{};
}

// ---- Simulation ----

inline Future<Void> run_and_signal(std::function<Future<Void>()> body, Promise<Void> done) {
  try {
    Future<Void> running = body();
    co_await running;
  } catch (const Error& error) {
    ADD_FAILURE() << "unexpected error " << error.describe();
  }
  done.send(Void{});
  co_return Void{};
}

// Runs `body` as a new process on `machine`, and the simulator until the body returns.
inline void run_in_process(sim::Simulator& simulator, sim::SimMachine& machine, std::function<Future<Void>()> body) {
  Promise<Void> done;
  simulator.add_process(machine, "test", [body, done] { return run_and_signal(body, done); });
  ASSERT_TRUE(simulator.run_until(done.get_future(), 1e6)) << "the test process got stuck";
}

// The error with which `open` fails inside a simulated process (errc::success if it opens), for
// engines that must refuse to run in simulation.
inline Future<Void> open_and_record_error(OpenStore open, int* code) {
  try {
    std::unique_ptr<IKeyValueStore> store = co_await open();
    *code = errc::success;
  } catch (const Error& error) {
    *code = error.code();
  }
  co_return Void{};
}

inline int open_error_in_simulation(OpenStore open) {
  sim::Simulator simulator(1, false);
  sim::SimMachine& machine = simulator.add_machine("storage");
  int code = errc::success;
  run_in_process(simulator, machine, [open, &code] { return open_and_record_error(open, &code); });
  return code;
}

// Lets the simulation run for `seconds` of virtual time.
inline void run_for(sim::Simulator& simulator, double seconds) {
  simulator.scheduler().set_current_process(0);
  Future<Void> later = delay(seconds);
  ASSERT_TRUE(simulator.run_until(later, 1e9));
}

}  // namespace keel::testing

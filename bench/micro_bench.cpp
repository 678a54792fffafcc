// Micro-benchmarks of the runtime, RPC and storage-server building blocks (Google Benchmark).
// Not run by the test suite; run build/release/bench/keel_micro_bench to see the per-operation
// costs (compare the arguments of one benchmark in the same run, not figures across runs).
#include <benchmark/benchmark.h>

#include "rpc/frame.h"
#include "rpc/serialize.h"
#include "runtime/combinators.h"
#include "runtime/test_support.h"
#include "server/resolver/conflict_set.h"
#include "server/storage_server/versioned_data.h"
#include "storage/row_cache.h"

namespace keel {
namespace {

Future<int> add_one(Future<int> input) {
  int value = co_await input;
  co_return value + 1;
}

void BM_PromiseToCoroutineResume(benchmark::State& state) {
  testing::SchedulerFixture fixture;
  for (auto _ : state) {
    Promise<int> promise;
    Future<int> result = add_one(promise.get_future());
    promise.send(1);
    fixture.run_until_idle();
    benchmark::DoNotOptimize(result.get());
  }
}
BENCHMARK(BM_PromiseToCoroutineResume);

void BM_DelayZero(benchmark::State& state) {
  testing::SchedulerFixture fixture;
  for (auto _ : state) {
    Future<Void> later = delay(0);
    fixture.run_until_idle();
  }
}
BENCHMARK(BM_DelayZero);

// A resumption while `range(0)` timers wait (a server holds many: timeouts, polls, delays).
void BM_ResumeAmongTimers(benchmark::State& state) {
  testing::SchedulerFixture fixture;
  std::vector<Future<Void>> timers;
  for (int64_t i = 0; i < state.range(0); ++i) timers.push_back(delay(1e6 + static_cast<double>(i)));
  for (auto _ : state) {
    Promise<int> promise;
    Future<int> result = add_one(promise.get_future());
    promise.send(1);
    while (!result.is_ready()) scheduler().run_next();
    benchmark::DoNotOptimize(result.get());
  }
}
BENCHMARK(BM_ResumeAmongTimers)->Arg(0)->Arg(1000)->Arg(100000);

// A timer set and come due while `range(0)` others wait (each read's timeout is one).
void BM_TimerAmongTimers(benchmark::State& state) {
  testing::SchedulerFixture fixture;
  std::vector<Future<Void>> timers;
  for (int64_t i = 0; i < state.range(0); ++i) timers.push_back(delay(1e6 + static_cast<double>(i)));
  for (auto _ : state) {
    Future<Void> soon = delay(1e-6);
    while (!soon.is_ready()) scheduler().run_next();
  }
}
BENCHMARK(BM_TimerAmongTimers)->Arg(0)->Arg(1000)->Arg(100000);

struct Message {
  uint64_t id = 0;
  std::string key;
  std::vector<std::string> values;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(id, key, values);
  }
};

void BM_SerializeRoundTrip(benchmark::State& state) {
  Message message{42, std::string(16, 'k'), std::vector<std::string>(4, std::string(100, 'v'))};
  for (auto _ : state) {
    const std::string bytes = serialize_to_string(message);
    benchmark::DoNotOptimize(deserialize_from_string<Message>(bytes));
  }
}
BENCHMARK(BM_SerializeRoundTrip);

void BM_FrameEncodeDecode(benchmark::State& state) {
  const std::string message(static_cast<size_t>(state.range(0)), 'm');
  for (auto _ : state) {
    std::string stream;
    encode_frame(7, message, stream);
    FrameDecoder decoder;
    decoder.feed(stream);
    benchmark::DoNotOptimize(decoder.next());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_FrameEncodeDecode)->Arg(64)->Arg(4096)->Arg(100000);

// A storage server's read of a key with no writes in its MVCC window, with `range(0)` other keys
// deleted one by one in the window: the time per read should not grow with the deletes.
void BM_WindowReadAmongDeletes(benchmark::State& state) {
  VersionedData data(0);
  for (int64_t i = 0; i < state.range(0); ++i) {
    const Key key = "deleted/" + std::to_string(i);
    data.clear_range(i + 1, single_key_range(key));
  }
  data.advance_to(state.range(0) + 1);
  const Key read = "other/key";
  for (auto _ : state) benchmark::DoNotOptimize(data.get(read, data.latest_version()));
}
BENCHMARK(BM_WindowReadAmongDeletes)->Arg(0)->Arg(1000)->Arg(50000);

// A storage server's window in its steady state: one set of a random key of a million per
// version, the oldest versions handed to the engine so that the window holds `range(0)` of them,
// a point read of a random key per set, and a small range read every `range(1)` sets (0: none),
// as a front end's periodic expiry sweep does. Reports the time per set.
void BM_WindowWrites(benchmark::State& state) {
  const Version window = state.range(0);
  const int64_t range_read_every = state.range(1);
  VersionedData data(0);
  DeterministicRandom random(5);
  auto key = [&] { return "\x02resp/kkey:" + std::to_string(100'000'000 + random.random_int(0, 1'000'000)); };
  Version version = 0;
  auto step = [&] {
    ++version;
    data.set(version, key(), "value");
    benchmark::DoNotOptimize(data.get(key(), version));
    if (range_read_every > 0 && version % range_read_every == 0) {
      benchmark::DoNotOptimize(data.keys_with_writes(KeyRange{"\x02resp/e", "\x02resp/f"}, false, 10));
    }
    data.advance_to(version);
    if (version > window && version % 64 == 0) data.make_durable(version - window);
  };
  for (Version i = 0; i < 2 * window; ++i) step();
  for (auto _ : state) step();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WindowWrites)->Args({150'000, 0})->Args({150'000, 10'000});

// A storage server's batch of point reads that hit its row cache, as a pipelined front end sends
// them: `range(1)` keys at a time, random among `range(0)` cached ones, with (range(2) = 1) or
// without the prefetch stages get_values runs before its lookups. Reports the time per key.
void BM_RowCacheBatchFind(benchmark::State& state) {
  const int64_t keys = state.range(0);
  const auto batch = static_cast<size_t>(state.range(1));
  const bool prefetch = state.range(2) != 0;
  RowCache cache(int64_t{1} << 34);
  auto key_of = [](int64_t i) { return "\x02resp/kkey:" + std::to_string(100'000'000 + i); };
  for (int64_t i = 0; i < keys; ++i) cache.insert(key_of(i), Value("xxx"));
  DeterministicRandom random(5);
  std::vector<Key> requested(batch);
  std::optional<Value> value;
  for (auto _ : state) {
    state.PauseTiming();
    for (Key& key : requested) key = key_of(random.random_int(0, keys));
    state.ResumeTiming();
    if (prefetch) {
      for (const int stage : {0, 1}) {
        for (const Key& key : requested) cache.prefetch(key, stage);
      }
    }
    for (const Key& key : requested) benchmark::DoNotOptimize(cache.find(key, &value));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch));
}
BENCHMARK(BM_RowCacheBatchFind)->ArgsProduct({{1'000'000}, {16, 256}, {0, 1}});

// A hot key (a contended counter): every version sets the same key, and the oldest versions go
// to the engine in steps of 64 so that the window holds `range(0)` writes of that one key.
// Reports the time per set.
void BM_WindowHotKeyWrites(benchmark::State& state) {
  const Version window = state.range(0);
  VersionedData data(0);
  const Key key = "\x02resp/kcounter";
  Version version = 0;
  auto step = [&] {
    ++version;
    data.set(version, key, "12345678");
    data.advance_to(version);
    if (version > window && version % 64 == 0) data.make_durable(version - window);
  };
  for (Version i = 0; i < 2 * window; ++i) step();
  for (auto _ : state) step();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WindowHotKeyWrites)->Arg(100)->Arg(10'000);

// The resolver's conflict set in its steady state: batches of `range(1)` transactions, each
// reading one key and writing `range(3)` (a front end's shared group writes hundreds), random
// keys of a million under a common prefix (as a front end's keys look), the versions spaced so
// that the MVCC window holds about `range(0)` write ranges. Reports the time per transaction.
void BM_ConflictSetResolve(benchmark::State& state) {
  const auto batch_size = static_cast<int>(state.range(1));
  const auto writes_per_transaction = static_cast<int>(state.range(3));
  const auto ranges_in_window = static_cast<Version>(state.range(0));
  const Version step = std::max<Version>(1, mvcc_window_versions * batch_size * writes_per_transaction / ranges_in_window);
  const Version read_lag = std::max<Version>(step, state.range(2) * versions_per_second / 1000);
  ConflictSet set(0);
  DeterministicRandom random(7);
  auto key = [&] { return "\x02resp/kkey:" + std::to_string(100'000'000 + random.random_int(0, 1'000'000)); };
  auto make_batch = [&] {
    std::vector<ConflictTransaction> batch(batch_size);
    for (ConflictTransaction& transaction : batch) {
      transaction.read_version = set.newest_version();
      transaction.reads.push_back(single_key_range(key()));
      for (int i = 0; i < writes_per_transaction; ++i) transaction.writes.push_back(single_key_range(key()));
    }
    return batch;
  };
  Version version = 0;
  // Fill the window first: twice its span of batches.
  for (Version filled = 0; filled < 2 * mvcc_window_versions; filled += step) {
    version += step;
    set.resolve(version, make_batch());
  }
  // Enough batches that a key comes round again only after its last write left the window, so
  // the set holds what the window does however many iterations run.
  std::vector<std::vector<ConflictTransaction>> batches;
  for (Version i = 0; i <= mvcc_window_versions / step; ++i) batches.push_back(make_batch());
  size_t next = 0;
  for (auto _ : state) {
    version += step;
    for (ConflictTransaction& transaction : batches[next]) transaction.read_version = version - read_lag;
    benchmark::DoNotOptimize(set.resolve(version, batches[next]));
    next = (next + 1) % batches.size();
  }
  state.SetItemsProcessed(state.iterations() * batch_size);
  state.counters["boundaries"] = static_cast<double>(set.size());
}
BENCHMARK(BM_ConflictSetResolve)
    ->Args({10'000, 20, 0, 2})
    ->Args({300'000, 20, 0, 2})
    ->Args({300'000, 2, 0, 2})
    ->Args({300'000, 20, 10, 2})
    ->Args({300'000, 20, 1000, 2})
    ->Args({300'000, 1, 0, 256});

}  // namespace
}  // namespace keel

BENCHMARK_MAIN();

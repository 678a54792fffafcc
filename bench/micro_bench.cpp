// Micro-benchmarks of the runtime, RPC and storage-server building blocks (Google Benchmark).
// Not run by the test suite; run build/release/bench/keel_micro_bench to see the per-operation
// costs (compare the arguments of one benchmark in the same run, not figures across runs).
#include <benchmark/benchmark.h>

#include "rpc/frame.h"
#include "rpc/serialize.h"
#include "runtime/combinators.h"
#include "runtime/test_support.h"
#include "server/storage_server/versioned_data.h"

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

}  // namespace
}  // namespace keel

BENCHMARK_MAIN();

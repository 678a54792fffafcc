// keel bench db: the load phase and the engines' amplification read back from cluster status.
#include <algorithm>

#include <fmt/format.h>

#include "bench/db_bench.h"
#include "client/status.h"
#include "runtime/combinators.h"

namespace keel::bench {
namespace {

constexpr size_t value_pool_bytes = 1 << 20;
constexpr double durable_wait_seconds_max = 1800;
constexpr double durable_poll_seconds = 0.25;

struct LoadProgress {
  uint64_t next_index = 0;  // first index of the next batch to hand out
};

Future<Void> loader(Database db, const DbBenchOptions& options, const KeyNames& names, const ValueSource& values,
                    LoadProgress* progress) {
  while (progress->next_index < options.keys) {
    const uint64_t first = progress->next_index;
    const uint64_t last = std::min<uint64_t>(options.keys, first + static_cast<uint64_t>(options.load_batch_keys));
    progress->next_index = last;
    auto body = [&](Transaction& transaction) -> Future<Void> {
      for (uint64_t i = first; i < last; ++i) transaction.set(names.key(i), values.value(i));
      co_return Void{};
    };
    co_await db.run(body);
  }
  co_return Void{};
}

bool engines_durable_at(const ClusterStatus& status, Version version) {
  for (const StorageServerStatus& server : status.storage) {
    if (server.reachable && server.durable_version < version) return false;
  }
  return true;
}

// Commits one tiny transaction (a key outside the bench/ keys): versions advance only with
// commits, and a storage server moves a version into its engine only once it is older than the
// MVCC window (5 s of versions), so an idle cluster would never make the load's tail durable.
Future<Void> tick(Database db) {
  auto body = [](Transaction& transaction) -> Future<Void> {
    transaction.set("bench~tick", "t");
    co_return Void{};
  };
  co_await db.run(body);
  co_return Void{};
}

// Waits until every reachable storage server's engine holds everything committed so far.
Future<bool> wait_engines_durable(Database db) {
  const ClusterStatus first = co_await get_cluster_status(db);
  const Version target = first.live_committed_version;
  const double deadline = now() + durable_wait_seconds_max;
  while (now() < deadline) {
    const ClusterStatus status = co_await get_cluster_status(db);
    if (engines_durable_at(status, target)) co_return true;
    co_await tick(db);
    co_await delay(durable_poll_seconds);
  }
  co_return false;
}

std::string megabytes(int64_t bytes) { return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6); }

std::string ratio(int64_t numerator, int64_t denominator) {
  if (numerator < 0 || denominator <= 0) return "-";
  return fmt::format("{:.2f}", static_cast<double>(numerator) / static_cast<double>(denominator));
}

}  // namespace

ValueSource::ValueSource(size_t bytes) : bytes_(bytes) {
  DeterministicRandom random(0x6b65656c);
  pool_ = random.random_bytes(value_pool_bytes + bytes);
}

std::string ValueSource::value(uint64_t index) const {
  const uint64_t offset = (index * 7919) % value_pool_bytes;  // 7919 is prime: offsets vary
  return pool_.substr(offset, bytes_);
}

Future<Void> run_load(Database db, const DbBenchOptions& options) {
  const KeyNames names(options.key_bytes);
  const ValueSource values(options.value_bytes);
  LoadProgress progress;
  const double start = now();
  std::vector<Future<Void>> loaders;
  for (int i = 0; i < options.clients; ++i) loaders.push_back(loader(db, options, names, values, &progress));
  co_await when_all(std::move(loaders));
  const double committed_seconds = now() - start;
  const double keys = static_cast<double>(options.keys);
  fmt::print("load | {} keys | {:.1f} s | {:.0f} keys/s | {:.1f} MB/s | {} keys per transaction, {} in flight\n",
             options.keys, committed_seconds, keys / committed_seconds,
             keys * static_cast<double>(options.key_bytes + options.value_bytes) / committed_seconds / 1e6,
             options.load_batch_keys, options.clients);
  const bool durable = co_await wait_engines_durable(db);
  const double durable_seconds = now() - start;
  if (durable) {
    // Includes the MVCC window: a version reaches an engine at the earliest 5 s after its commit.
    fmt::print("load durable in engines | {:.1f} s | {:.0f} keys/s | {:.1f} s after the last commit\n",
               durable_seconds, keys / durable_seconds, durable_seconds - committed_seconds);
  } else {
    fmt::print("load durable in engines | not within {:.0f} s\n", durable_wait_seconds_max);
  }
  co_await report_engines(db, "after load");
  co_return Void{};
}

Future<Void> report_engines(Database db, std::string label) {
  const ClusterStatus status = co_await get_cluster_status(db);
  int64_t written = 0, device = 0, data = 0, disk = 0;
  std::string engine;
  for (const StorageServerStatus& server : status.storage) {
    written += server.logical_bytes_written;
    device = (device < 0 || server.device_bytes_written < 0) ? -1 : device + server.device_bytes_written;
    data += server.logical_bytes;
    disk += server.disk_bytes;
    if (engine.empty() || engine == server.engine) {
      engine = server.engine;
    } else {
      engine = "mixed";
    }
  }
  fmt::print("engines {} | {} | {} storage servers | written {} | device {} | write amp {} | data {} | disk {} | "
             "space amp {}\n",
             label, engine, status.storage.size(), megabytes(written), device < 0 ? "-" : megabytes(device),
             ratio(device, written), megabytes(data), megabytes(disk), ratio(disk, data));
  co_return Void{};
}

}  // namespace keel::bench

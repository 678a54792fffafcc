// keel bench db: workloads against a running cluster (or an embedded server this command starts),
// reporting throughput and latency percentiles. It measures; it asserts nothing.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "bench/benches.h"
#include "client/database.h"
#include "runtime/combinators.h"
#include "world/real_world.h"

namespace keel::bench {
namespace {

// An embedded `keel server` in a temporary directory, for the length of the benchmark.
class EmbeddedServer {
 public:
  explicit EmbeddedServer(const std::string& keel_binary) {
    directory_ = std::filesystem::temp_directory_path() / fmt::format("keel-bench-{}", ::getpid());
    std::filesystem::create_directories(directory_);
    cluster_file_ = (directory_ / "keel.cluster").string();
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("bench: pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      const std::string data = (directory_ / "data").string();
      ::execl(keel_binary.c_str(), keel_binary.c_str(), "server", "--listen", "127.0.0.1:0", "--data", data.c_str(),
              "--cluster-file", cluster_file_.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    std::FILE* output = ::fdopen(out[0], "r");
    char line[512] = {};
    if (std::fgets(line, sizeof(line), output) == nullptr) throw std::runtime_error("bench: the server did not start");
    std::fclose(output);
  }
  ~EmbeddedServer() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }
  const std::string& cluster_file() const { return cluster_file_; }

 private:
  std::filesystem::path directory_;
  std::string cluster_file_;
  pid_t pid_ = -1;
};

struct Samples {
  std::vector<double> latencies;  // seconds, one per operation
  uint64_t operations = 0;        // reads or writes counted by the workload
  uint64_t retries = 0;
};

Key bench_key(uint64_t index) { return fmt::format("bench/{:012d}", index); }

Future<Void> load_keys(Database db, const DbBenchOptions& options) {
  const std::string value(options.value_bytes, 'v');
  for (uint64_t first = 0; first < options.keys; first += 100) {
    auto body = [&](Transaction& transaction) -> Future<Void> {
      for (uint64_t i = first; i < std::min(options.keys, first + 100); ++i) transaction.set(bench_key(i), value);
      co_return Void{};
    };
    co_await db.run(body);
  }
  co_return Void{};
}

// One operation of the workload, as one transaction; returns how many reads/writes it did.
Future<uint64_t> one_operation(Database db, const DbBenchOptions& options, DeterministicRandom& random) {
  const std::string& workload = options.workload;
  const std::string value(options.value_bytes, 'w');
  uint64_t counted = 0;
  auto random_key = [&] { return bench_key(static_cast<uint64_t>(random.random_int(0, static_cast<int64_t>(options.keys)))); };
  auto body = [&](Transaction& transaction) -> Future<Void> {
    counted = 0;
    if (workload == "point-read") {
      for (int i = 0; i < options.reads_per_transaction; ++i) {
        co_await transaction.get(random_key());
        ++counted;
      }
    } else if (workload == "point-write") {
      transaction.set(random_key(), value);
      counted = 1;
    } else if (workload == "mix") {
      if (random.coin(0.9)) {
        co_await transaction.get(random_key());
      } else {
        transaction.set(random_key(), value);
      }
      counted = 1;
    } else if (workload == "range-scan") {
      const Key begin = random_key();
      const KeyRange range{begin, "bench0"};
      co_await transaction.get_range(range, 100);
      counted = 1;
    } else if (workload == "counter") {
      transaction.atomic_op(MutationType::add, "bench/counter", std::string("\x01\0\0\0\0\0\0\0", 8));
      counted = 1;
    } else {  // rmw-hot
      const Key key = bench_key(static_cast<uint64_t>(random.random_int(0, options.hot_keys)));
      std::optional<Value> current = co_await transaction.get(key);
      transaction.set(key, current.value_or("") .substr(0, 8) + "x");
      counted = 1;
    }
    co_return Void{};
  };
  co_await db.run(body);
  co_return counted;
}

Future<Void> client(Database db, const DbBenchOptions& options, double end_time, uint64_t seed, Samples* samples) {
  DeterministicRandom random(seed);
  while (now() < end_time) {
    const double start = now();
    Future<uint64_t> done = one_operation(db, options, random);
    samples->operations += co_await done;
    samples->latencies.push_back(now() - start);
  }
  co_return Void{};
}

double percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(fraction * static_cast<double>(sorted.size())))];
}

Future<Void> run_workload(const DbBenchOptions& options, std::string cluster_file) {
  Database db = co_await Database::open(cluster_file);
  if (options.workload != "counter") co_await load_keys(db, options);
  Samples samples;
  const double start = now();
  const double end_time = start + options.duration_seconds;
  std::vector<Future<Void>> clients;
  for (int i = 0; i < options.clients; ++i) clients.push_back(client(db, options, end_time, static_cast<uint64_t>(i) + 1, &samples));
  co_await when_all(std::move(clients));
  const double elapsed = now() - start;
  std::sort(samples.latencies.begin(), samples.latencies.end());
  fmt::print("{:>12} | {:>7} | {:>12.0f} | {:>12.0f} | {:>8.3f} | {:>8.3f} | {:>8.3f}\n", options.workload, options.clients,
             static_cast<double>(samples.operations) / elapsed, static_cast<double>(samples.latencies.size()) / elapsed,
             percentile(samples.latencies, 0.5) * 1e3, percentile(samples.latencies, 0.99) * 1e3,
             percentile(samples.latencies, 0.999) * 1e3);
  co_return Void{};
}

}  // namespace

int run_db_bench(const DbBenchOptions& options) {
  std::unique_ptr<EmbeddedServer> server;
  std::string cluster_file = options.cluster_file;
  if (cluster_file.empty()) {
    server = std::make_unique<EmbeddedServer>(options.keel_binary);
    cluster_file = server->cluster_file();
  }
  fmt::print("keel bench db: {} keys, {}-byte values, {} s per workload{}\n", options.keys, options.value_bytes,
             options.duration_seconds, server ? " (embedded server started for the run)" : "");
  fmt::print("{:>12} | {:>7} | {:>12} | {:>12} | {:>8} | {:>8} | {:>8}\n", "workload", "clients", "ops/s",
             "txns/s", "p50 ms", "p99 ms", "p99.9 ms");
  RealWorld world;
  Future<Void> run = run_workload(options, cluster_file);
  world.run(ready(run));
  if (run.is_error()) {
    fmt::print(stderr, "keel bench db: {}\n", run.error().describe());
    return 1;
  }
  return 0;
}

}  // namespace keel::bench

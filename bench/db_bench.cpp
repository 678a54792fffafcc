// keel bench db: workloads against a running cluster (or an embedded server this command starts),
// reporting throughput and latency percentiles, and the storage engines' write and space
// amplification from cluster status. It measures; it asserts nothing, except the bank workload
// (db_bench_bank.cpp), which audits.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "bench/db_bench.h"
#include "client/connection_probe.h"
#include "client/database_state.h"
#include "runtime/combinators.h"
#include "world/real_world.h"

namespace keel::bench {
namespace {

// An embedded `keel server` in a temporary directory, for the length of the benchmark.
class EmbeddedServer {
 public:
  EmbeddedServer(const std::string& keel_binary, const std::string& engine, const std::vector<std::string>& knobs) {
    directory_ = std::filesystem::temp_directory_path() / fmt::format("keel-bench-{}", ::getpid());
    std::filesystem::create_directories(directory_);
    cluster_file_ = (directory_ / "keel.cluster").string();
    const std::string data = (directory_ / "data").string();
    std::vector<std::string> arguments = {keel_binary, "server",         "--listen",     "127.0.0.1:0", "--data",
                                          data,        "--cluster-file", cluster_file_, "--resp",      "off"};
    if (!engine.empty()) arguments.insert(arguments.end(), {"--engine", engine});
    for (const std::string& knob : knobs) arguments.insert(arguments.end(), {"--knob", knob});
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("bench: pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      std::vector<char*> argv;
      for (std::string& argument : arguments) argv.push_back(argument.data());
      argv.push_back(nullptr);
      ::execv(keel_binary.c_str(), argv.data());
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
  std::vector<double> latencies;       // seconds, one per transaction
  std::vector<double> read_latencies;  // seconds, one per point read (point-read, mix)
  uint64_t operations = 0;             // reads or writes counted by the workload
};

// What every client shares: key names, the key choice, values.
struct WorkloadShape {
  KeyNames names;
  KeyChooser chooser;
  ValueSource values;
};

// Reads `key`, recording the read's latency.
Future<Void> timed_get(Transaction& transaction, Key key, Samples* samples) {
  const double start = now();
  co_await transaction.get(std::move(key));
  samples->read_latencies.push_back(now() - start);
  co_return Void{};
}

// One operation of the workload, as one transaction; returns how many reads/writes it did.
Future<uint64_t> one_operation(Database db, const DbBenchOptions& options, const WorkloadShape& shape,
                               DeterministicRandom& random, Samples* samples) {
  const std::string& workload = options.workload;
  uint64_t counted = 0;
  auto random_index = [&] { return shape.chooser.next_index(random); };
  auto body = [&](Transaction& transaction) -> Future<Void> {
    counted = 0;
    if (workload == "point-read") {
      for (int i = 0; i < options.reads_per_transaction; ++i) {
        co_await timed_get(transaction, shape.names.key(random_index()), samples);
        ++counted;
      }
    } else if (workload == "point-write") {
      const uint64_t index = random_index();
      transaction.set(shape.names.key(index), shape.values.value(index + 1));
      counted = 1;
    } else if (workload == "mix") {
      const uint64_t index = random_index();
      if (random.coin(options.read_fraction)) {
        co_await timed_get(transaction, shape.names.key(index), samples);
      } else {
        transaction.set(shape.names.key(index), shape.values.value(index + 1));
      }
      counted = 1;
    } else if (workload == "range-scan") {
      const KeyRange range{shape.names.key(random_index()), "bench0"};
      co_await transaction.get_range(range, 100);
      counted = 1;
    } else if (workload == "counter") {
      transaction.atomic_op(MutationType::add, "bench/counter", std::string("\x01\0\0\0\0\0\0\0", 8));
      counted = 1;
    } else {  // rmw-hot
      const Key key = shape.names.key(static_cast<uint64_t>(random.random_int(0, options.hot_keys)));
      std::optional<Value> current = co_await transaction.get(key);
      transaction.set(key, current.value_or("").substr(0, 8) + "x");
      counted = 1;
    }
    co_return Void{};
  };
  co_await db.run(body);
  co_return counted;
}

Future<Void> client(Database db, const DbBenchOptions& options, const WorkloadShape& shape, double end_time,
                    uint64_t seed, Samples* samples) {
  DeterministicRandom random(seed);
  while (now() < end_time) {
    const double start = now();
    Future<uint64_t> done = one_operation(db, options, shape, random, samples);
    samples->operations += co_await done;
    samples->latencies.push_back(now() - start);
  }
  co_return Void{};
}

double percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(fraction * static_cast<double>(sorted.size())))];
}

void print_row(const std::string& name, int clients, double operations_per_second, std::vector<double>& latencies,
               double elapsed) {
  std::sort(latencies.begin(), latencies.end());
  fmt::print("{:>12} | {:>7} | {:>12.0f} | {:>12.0f} | {:>8.3f} | {:>8.3f} | {:>8.3f}\n", name, clients,
             operations_per_second, static_cast<double>(latencies.size()) / elapsed, percentile(latencies, 0.5) * 1e3,
             percentile(latencies, 0.99) * 1e3, percentile(latencies, 0.999) * 1e3);
}

Future<Void> measure(Database db, const DbBenchOptions& options) {
  const WorkloadShape shape{KeyNames(options.key_bytes), KeyChooser(options.keys, options.distribution),
                            ValueSource(options.value_bytes)};
  fmt::print("{:>12} | {:>7} | {:>12} | {:>12} | {:>8} | {:>8} | {:>8}\n", "workload", "clients", "ops/s", "txns/s",
             "p50 ms", "p99 ms", "p99.9 ms");
  Samples samples;
  const double start = now();
  const double end_time = start + options.duration_seconds;
  std::vector<Future<Void>> clients;
  for (int i = 0; i < options.clients; ++i) {
    clients.push_back(client(db, options, shape, end_time, static_cast<uint64_t>(i) + 1, &samples));
  }
  co_await when_all(std::move(clients));
  const double elapsed = now() - start;
  print_row(options.workload, options.clients, static_cast<double>(samples.operations) / elapsed, samples.latencies,
            elapsed);
  if (!samples.read_latencies.empty()) {
    // The reads alone: ops/s and "txns/s" are reads per second; latencies per read (a
    // transaction's first read includes learning its read version).
    const double reads_per_second = static_cast<double>(samples.read_latencies.size()) / elapsed;
    print_row("reads", options.clients, reads_per_second, samples.read_latencies, elapsed);
  }
  co_return Void{};
}

// How long the run waits for the cluster's first answer (a read version) before it gives up.
constexpr double cluster_answer_seconds = 10.0;

// Whether the cluster answers; if not, says why (what probing its coordinators found).
Future<bool> cluster_answers(Database db) {
  Transaction first = db.create_transaction();
  Future<Version> answered = timeout_error(first.get_read_version(), cluster_answer_seconds);
  co_await ready(answered);
  if (!answered.is_error()) co_return true;
  const ClusterConnectionString connection = db.state()->connection->get();
  Future<std::string> probed = probe_coordinators(connection);
  std::string finding = co_await probed;
  if (finding.empty()) finding = fmt::format("is the cluster at {} running?", describe_addresses(connection.coordinators));
  fmt::print(stderr, "keel bench db: {} after {:g} s waiting for the cluster's first answer ({})\n",
             answered.error().describe(), cluster_answer_seconds, finding);
  co_return false;
}

// With --no-load, whether the keys a workload reads are there (an earlier `--workload load` of
// the same --keys and --key-size): the first and the last; false (said why) when one is not,
// since reads of absent keys would measure something else.
Future<bool> keys_loaded(Database db, const DbBenchOptions& options) {
  const bool reads_keys = options.workload == "point-read" || options.workload == "mix" ||
                          options.workload == "range-scan" || options.workload == "rmw-hot";
  if (options.load || !reads_keys) co_return true;
  const KeyNames names(options.key_bytes);
  for (const uint64_t index : {uint64_t{0}, options.keys - 1}) {
    const Key key = names.key(index);
    std::optional<Value> value;
    auto body = [&](Transaction& transaction) -> Future<Void> {
      value = co_await transaction.get(key);
      co_return Void{};
    };
    co_await db.run(body);
    if (!value) {
      fmt::print(stderr,
                 "keel bench db: --no-load, but key {} of --keys {} (`{}') is not in the cluster: load the keys first "
                 "(--workload load with the same --keys and --key-size), or leave out --no-load\n",
                 index, options.keys, key);
      co_return false;
    }
  }
  co_return true;
}

Future<bool> run_workload(const DbBenchOptions& options, std::string cluster_file) {
  Database db = co_await Database::open(cluster_file);
  Future<bool> reachable = cluster_answers(db);
  if (!co_await reachable) co_return false;
  if (options.workload == "bank") {
    Future<bool> held = run_bank(db, options);
    co_return co_await held;
  }
  if (options.workload == "load" || (options.load && options.workload != "counter")) co_await run_load(db, options);
  if (!co_await keys_loaded(db, options)) co_return false;
  if (options.workload != "load") {
    co_await measure(db, options);
    const std::string label = "after " + options.workload;
    co_await report_engines(db, label);
  }
  co_return true;
}

}  // namespace

int run_db_bench(const DbBenchOptions& options) {
  std::unique_ptr<EmbeddedServer> server;
  std::string cluster_file = options.cluster_file;
  if (cluster_file.empty()) {
    server = std::make_unique<EmbeddedServer>(options.keel_binary, options.engine, options.knobs);
    cluster_file = server->cluster_file();
  }
  if (options.workload != "bank") {  // (the bank prints its own shape)
    fmt::print("keel bench db: {} keys of {} bytes, {}-byte values, {} key choice, {} s per workload{}\n",
               options.keys, options.key_bytes, options.value_bytes, options.distribution, options.duration_seconds,
               server ? " (embedded server started for the run)" : "");
  }
  RealWorld world;
  Future<bool> run = run_workload(options, cluster_file);
  world.run(ready(run));
  if (run.is_error()) {
    fmt::print(stderr, "keel bench db: {}\n", run.error().describe());
    return 1;
  }
  return run.get() ? 0 : 1;
}

}  // namespace keel::bench

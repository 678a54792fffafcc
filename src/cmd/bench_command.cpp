// `keel bench rpc|db|sim`: the benchmarks of bench/ (they measure; they assert nothing, except
// `keel bench db --workload bank`, which audits).
#include <unistd.h>

#include <climits>

#include <fmt/format.h>

#include "bench/benches.h"
#include "cmd/commands.h"
#include "cmd/knob_settings.h"

namespace keel::cmd {
namespace {

std::string own_executable() {
  char path[PATH_MAX] = {};
  const ssize_t length = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  return length > 0 ? std::string(path, static_cast<size_t>(length)) : std::string("keel");
}

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto rpc = std::make_shared<bench::RpcBenchOptions>();
  auto simulation = std::make_shared<bench::SimBenchOptions>();
  simulation->spec_path = "tests/sim/fast/rpc_echo.toml";
  CLI::App* bench_command = app.add_subcommand("bench", "Benchmarks (see bench/README.md)");
  bench_command->require_subcommand(1);
  CLI::App* rpc_command = bench_command->add_subcommand("rpc", "Loopback RPC round trips vs a raw-socket ping-pong");
  rpc_command->add_option("--round-trips", rpc->round_trips, "Round trips per measurement")
      ->capture_default_str()->check(CLI::Range(64, 100000000));
  rpc_command->add_option("--rounds", rpc->rounds, "Measurements per configuration (median)")
      ->capture_default_str()->check(CLI::Range(1, 100));
  rpc_command->add_option("--size", rpc->payload_bytes, "Payload bytes")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  auto db = std::make_shared<bench::DbBenchOptions>();
  CLI::App* db_command = bench_command->add_subcommand("db", "Database workloads: throughput and latency percentiles");
  CLI::Option* cluster = db_command->add_option("-C,--cluster-file", db->cluster_file,
                                                 "Cluster to load (default: start an embedded server)");
  db_command->add_option("--workload", db->workload, "Workload")
      ->capture_default_str()
      ->check(CLI::IsMember({"load", "point-read", "point-write", "mix", "range-scan", "counter", "rmw-hot", "bank"}));
  db_command->add_option("--engine", db->engine, "Engine of the embedded server (default: the server's)")
      ->check(CLI::IsMember({"memory", "ssd", "rocksdb"}))
      ->excludes(cluster);  // a running cluster has its engine already
  db_command->add_flag("!--no-load", db->load, "Do not load the keys first (a `--workload load` run did)");
  db_command->add_option("--load-batch", db->load_batch_keys, "Keys per load transaction")
      ->capture_default_str()->check(CLI::Range(1, 50000));
  db_command->add_option("--distribution", db->distribution, "Key choice (zipfian: theta 0.99)")
      ->capture_default_str()->check(CLI::IsMember({"uniform", "zipfian"}));
  db_command->add_option("--read-fraction", db->read_fraction, "mix: fraction of reads (the rest update)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  db_command->add_option("--clients", db->clients, "Concurrent clients")->capture_default_str()->check(CLI::Range(1, 10000));
  db_command->add_option("--duration", db->duration_seconds, "Seconds of measurement")->capture_default_str()->check(CLI::Range(0.1, 3600.0));
  db_command->add_option("--keys", db->keys, "Keys loaded before measuring")->capture_default_str()->check(CLI::Range(1, 100000000));
  db_command->add_option("--key-size", db->key_bytes, "Key bytes (\"bench/\" and digits)")
      ->capture_default_str()->check(CLI::Range(16, 1000));
  db_command->add_option("--value-size", db->value_bytes, "Value bytes")->capture_default_str()->check(CLI::Range(0, 100000));
  db_command->add_option("--reads-per-transaction", db->reads_per_transaction, "Reads per point-read transaction")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  db_command->add_option("--accounts", db->accounts, "Accounts of the bank workload")
      ->capture_default_str()->check(CLI::Range(2, 10000));
  db_command->add_option("--hot-keys", db->hot_keys, "Keys of the rmw-hot workload")->capture_default_str()->check(CLI::Range(1, 1000000));
  db_command->add_option("--knob", db->knobs,
                         "Set a tunable, NAME=VALUE (repeatable), in this client and in the embedded server, e.g. "
                         "read_batch_keys_max=1");
  CLI::App* sim_command = bench_command->add_subcommand("sim", "Simulated events per wall-clock second");
  sim_command->add_option("--spec", simulation->spec_path, "Spec to run (the default is relative to the repository's root)")->capture_default_str()->check(CLI::ExistingFile);
  sim_command->add_option("--seeds", simulation->seeds, "Seeds to run")->capture_default_str()->check(CLI::Range(1, 100000));
  return {bench_command, [rpc, simulation, db, rpc_command, db_command] {
            if (rpc_command->parsed()) {
              rpc->keel_binary = own_executable();
              return bench::run_rpc_bench(*rpc);
            }
            if (db_command->parsed()) {
              db->keel_binary = own_executable();
              if (std::optional<std::string> bad = apply_knob_settings(db->knobs)) {
                fmt::print(stderr, "keel bench db: {}\n", *bad);
                return 2;
              }
              return bench::run_db_bench(*db);
            }
            return reporting_spec_errors(
                [&] { return bench::run_sim_bench(*simulation, read_sim_spec(simulation->spec_path)); });
          }};
}

}  // namespace keel::cmd

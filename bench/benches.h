// Benchmarks behind `keel bench`. Each measures and prints; none asserts a timing. Figures that
// matter are ratios against a baseline measured in the same run (the machine is shared).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/spec.h"

namespace keel::bench {

struct RpcBenchOptions {
  std::string keel_binary;     // the keel executable, to start an echo server process
  uint64_t round_trips = 20000;  // per measurement
  int rounds = 3;                // measurements per configuration; the median is reported
  size_t payload_bytes = 64;
};
// Loopback RPC round trips per second (1 and 64 in flight) next to a raw-socket ping-pong.
int run_rpc_bench(const RpcBenchOptions& options);

struct SimBenchOptions {
  std::string spec_path;
  uint64_t seeds = 10;
};
// Simulated tasks (events) per wall-clock second over a few seeds of a spec.
// `spec` is the spec file options.spec_path holds (the command reads it).
int run_sim_bench(const SimBenchOptions& options, const sim::SimSpec& spec);

struct DbBenchOptions {
  std::string keel_binary;   // to start an embedded server when no cluster file is given
  std::string cluster_file;  // empty: start an embedded server for the run
  std::string engine;        // the embedded server's engine; empty: the server's default
  std::vector<std::string> knobs;  // NAME=VALUE, passed on to the embedded server (set here by the command)
  // load (only load, report the load rate and amplification), point-read, point-write, mix,
  // range-scan, counter, rmw-hot; bank (transfers between accounts, audited: it checks, and
  // fails the command when an audit does not add up; bench/db_bench_bank.cpp)
  std::string workload = "point-read";
  int clients = 50;
  double duration_seconds = 10;
  uint64_t keys = 100000;
  size_t key_bytes = 16;
  size_t value_bytes = 100;
  bool load = true;                     // load the keys before measuring (off: loaded by an earlier run)
  int load_batch_keys = 1000;           // keys per load transaction
  std::string distribution = "uniform";  // key choice: uniform or zipfian (theta 0.99)
  double read_fraction = 0.9;           // mix: reads, the rest are updates (blind writes)
  int reads_per_transaction = 10;       // point-read
  int hot_keys = 10;                    // rmw-hot
  int accounts = 100;                   // bank
};
// Throughput and latency percentiles of one workload (after loading the keys), and the engines'
// write and space amplification from cluster status. 1 when it failed (bank: an audit failed).
int run_db_bench(const DbBenchOptions& options);

// The raw baseline: round trips per second between this process and a forked child echoing
// over a blocking TCP socket on 127.0.0.1, with `in_flight` messages pipelined.
double raw_ping_pong(uint64_t round_trips, int in_flight, size_t payload_bytes);

}  // namespace keel::bench

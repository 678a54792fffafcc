// Benchmarks behind `keel bench`. Each measures and prints; none asserts a timing. Figures that
// matter are ratios against a baseline measured in the same run (the machine is shared).
#pragma once

#include <cstdint>
#include <string>

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
int run_sim_bench(const SimBenchOptions& options);

// The raw baseline: round trips per second between this process and a forked child echoing
// over a blocking TCP socket on 127.0.0.1, with `in_flight` messages pipelined.
double raw_ping_pong(uint64_t round_trips, int in_flight, size_t payload_bytes);

}  // namespace keel::bench

// Pieces of `keel bench db` shared by its files (bench/db_bench*.cpp). Single-threaded: all of it
// runs on one RealWorld event loop.
#pragma once

#include <string>

#include "bench/benches.h"
#include "bench/db_bench_keys.h"
#include "client/database.h"

namespace keel::bench {

// Values of `bytes` bytes for key index i: slices of a seeded random pool, so engines that
// compress (rocksdb) see incompressible data, as users' values mostly are.
class ValueSource {
 public:
  explicit ValueSource(size_t bytes);
  std::string value(uint64_t index) const;

 private:
  size_t bytes_;
  std::string pool_;
};

// Loads keys [0, options.keys) in transactions of options.load_batch_keys keys, with
// options.clients transactions in flight; prints the load rate, then waits until every storage
// server has made the load durable in its engine and prints the engines' amplification.
Future<Void> run_load(Database db, const DbBenchOptions& options);

// The bank workload (bench/db_bench_bank.cpp): transfers for options.duration_seconds with
// audits; false (after printing why) when an audit did not add up or could not complete.
Future<bool> run_bank(Database db, const DbBenchOptions& options);

// Prints one line of the storage servers' engine metrics from status, summed over servers:
// write amplification (device / logical bytes written) and space amplification (disk / data).
Future<Void> report_engines(Database db, std::string label);

}  // namespace keel::bench

// The worker: hosts, in one process, every role that the static cluster configuration assigns to
// this process's address, and fails when any of them fails.
//
// The process with the sequencer also starts each generation: it asks every log for its durable
// end, starts the chain at the lowest (every log holds it) and versions above the highest, and
// serves the cluster description that tells clients where the proxies are.
#pragma once

#include <string>

#include "protocol/cluster_config.h"
#include "runtime/future.h"

namespace keel {

struct WorkerOptions {
  ClusterConfig cluster;
  std::string data_directory;  // each role keeps its files in a subdirectory
  std::string engine = "memory";
};

// Runs this process's roles (the transport must already listen at its cluster address).
Future<Void> run_worker(WorkerOptions options);

}  // namespace keel

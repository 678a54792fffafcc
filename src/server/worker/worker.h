// The worker: one per process. It hosts a coordinator (any process may be named one), what
// the cluster configuration places at this process's address (storage servers), every log it
// finds on disk, and whatever
// the cluster controller recruits into it; it campaigns to be the cluster controller (unless
// its class is "storage") and keeps the ServerDBInfo the controller publishes, which its roles
// follow. docs/fault_tolerance.md, "Recovery as built".
//
// A recruited role that fails ends alone (the controller notices and recovers); a role of an
// older generation is stopped once a newer generation accepts commits. The worker itself fails
// only when its coordinator or a storage server it hosts fails.
#pragma once

#include <memory>
#include <string>

#include "protocol/cluster_config.h"
#include "runtime/future.h"
#include "server/coordinator/cluster_connection.h"
#include "server/storage_server/storage_server.h"

namespace keel {

struct WorkerOptions {
  ClusterConfig cluster;
  // Where the coordinators are; none: open_server_connection of `<data_directory>/cluster`.
  std::shared_ptr<ClusterConnection> connection;
  std::string data_directory;  // each role keeps its files in a subdirectory
  std::string engine = "memory";
  std::string process_class = "unset";  // "storage": never hosts transaction roles
  // Optional (outlives the worker): a clean stop's request to this process's storage servers.
  StorageStopRequest* stop = nullptr;
};

// Runs this process's roles (the transport must already listen at its cluster address).
Future<Void> run_worker(WorkerOptions options);

// Declares every knob of the roles a worker hosts (and of the transport and the engines) to the
// knob registry, so that all of them can be set by name before any role starts.
void declare_server_knobs();

}  // namespace keel

// The storage server: holds shards, serves reads at any version of the last 5 seconds.
//
// It pulls its tag's mutations from the logs, applies them to an in-memory versioned window
// (VersionedData; atomic operations are resolved against the current value here), and moves
// versions older than the window (and known committed on every log) into its durable engine in
// batches, recording the durable version in the same engine commit; then it pops the logs.
// After a restart it recovers the engine and pulls again from the durable version on.
//
// Generations (docs/fault_tolerance.md, "Recovery as built"). The server outlives them. It
// follows the worker's ServerDBInfo and pulls only from a generation that is accepting commits
// (the controller publishes no other; until the first one arrives it waits), never from one
// older than a generation it already followed. Every log of a generation holds every tag: it
// peeks one of them and moves to the next when a peek fails. A peek outstanding when the
// generation changes is abandoned, and a reply that arrives after the change is dropped.
// make_durable pops every log of the current generation, ignoring errors.
//
// When it first sees a generation G accepting commits, newer than the last one it followed, it
// rolls its in-memory window back to K = min(G's recovery version, known committed version),
// lowers its known committed version to K, and pulls G's logs from K + 1 (they hold every
// version this server has not popped). Nothing above the recovery version was acknowledged.
// K also covers generations the server never heard of: had one accepted commits (even just its
// recovery transaction) between the last followed generation and G, its recovery version,
// lower than G's, would bound what survived of the versions this server pulled, and G's
// history has none of them above it. Known committed versions are on every log of their
// generation, so every later recovery version is at least as high; and only known committed
// versions are made durable, so the rollback never reaches into the engine. On the first
// generation after a start nothing has been pulled yet, so there is nothing to roll back.
//
// The applied version that reads wait for goes down with a rollback: a read above it waits
// until G's logs bring it back there (or, for a version no history has, until G's own versions,
// which start far above, pass it). A read that waited on the engine across a rollback fails
// with future_version if its version is not applied again yet, and one whose shard the new
// generation's map took away (or left to fetch again) with wrong_shard_server: the rolled-back
// writes of a shard no longer here never come back. Watches may fire spuriously for
// rolled-back writes.
//
// Shards. Which shards it has is the followed generation's shard map (ServerDBInfo.shards):
// it serves those whose team has its tag, and fetches the ones data distribution moves to it
// from their team before it reports them complete (storage_shards.cpp). Dropped shards are
// cleared from the engine. The engine records, with each durable version, the shards it holds
// complete and the last generation followed, so a restart keeps exactly the data it may.
//
// Reads wait up to a second for a version not yet applied (then future_version), fail with
// transaction_too_old below the window and wrong_shard_server for keys it does not serve.
#pragma once

#include <string>
#include <vector>

#include "protocol/cluster_config.h"
#include "protocol/server_db_info.h"
#include "protocol/storage_interface.h"
#include "runtime/async_var.h"
#include "runtime/future.h"
#include "runtime/notified.h"

namespace keel {

// A clean stop's request to the storage servers of a process (keel server on SIGINT or SIGTERM):
// each makes durable every version known committed when it saw the request, beyond the MVCC
// window, and pops the logs, so that a restart replays little of the logs and pulls little
// again. Each server counts itself in `servers` when it starts and in `finished` when done; the
// process waits for every one, with a time limit, before it exits. Nothing depends on it for
// correctness: a stop without it (kill -9) only leaves more to replay.
struct StorageStopRequest {
  Promise<Void> requested;  // sent once by the process
  int servers = 0;
  NotifiedValue<int> finished;
};

struct StorageServerConfig {
  Tag tag = 0;
  std::vector<StorageLocation> storage;  // every storage server of the cluster (fetch sources)
  std::string directory;                 // the engine's files
  std::string engine = "memory";
  // The worker's view of the cluster: where the logs of the current generation are. Required;
  // it outlives the server.
  AsyncVar<ServerDBInfo>* db_info = nullptr;
  // Optional (outlives the server): the process's clean stop.
  StorageStopRequest* stop = nullptr;
};

Future<Void> run_storage_server(StorageServerInterface interface, StorageServerConfig config);

}  // namespace keel

// The storage server: holds shards, serves reads at any version of the last 5 seconds.
//
// It pulls its tag's mutations from the log, applies them to an in-memory versioned window
// (VersionedData; atomic operations are resolved against the current value here), and moves
// versions older than the window (and known committed on every log) into its durable engine in
// batches, recording the durable version in the same engine commit; then it pops the log.
// After a restart it recovers the engine and pulls again from the durable version on.
//
// Reads wait up to a second for a version not yet applied (then future_version), fail with
// transaction_too_old below the window and wrong_shard_server for keys it does not hold.
#pragma once

#include <string>
#include <vector>

#include "protocol/storage_interface.h"
#include "runtime/future.h"

namespace keel {

struct StorageServerConfig {
  Tag tag = 0;
  std::vector<KeyRange> shards;  // the key ranges this server holds, sorted
  TLogInterface tlog;            // the log holding this server's tag
  std::string directory;         // the engine's files
  std::string engine = "memory";
};

Future<Void> run_storage_server(StorageServerInterface interface, StorageServerConfig config);

}  // namespace keel

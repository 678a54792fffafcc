// Point reads of a client process, batched: the reads at one read version whose keys the
// location cache puts in one shard, asked within one turn of the event loop, go to the shard's
// team as one GetValuesRequest (protocol/storage_interface.h) instead of one request each. A
// pipelined group of Redis commands, or a transaction that asks for several keys before it
// awaits any, pays for the request, the storage server's handler and the reply once.
//
// A batch goes once the tasks that were ready when its first key was asked have run (a yield
// at low priority, as for read versions). It takes at most client_knobs().read_batch_keys_max
// keys (1: every read goes alone); the next key begins another batch. A read whose location is
// not cached goes alone (it looks the location up first), and so does every read of a batch
// that met wrong_shard_server (the shard moved: each finds its new location). Other errors
// reach every read of the batch, as they would reach each read alone: the team's members are
// tried in turn (client/load_balance.h) before a failure surfaces.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "protocol/types.h"
#include "runtime/future.h"

namespace keel {

struct DatabaseState;
struct ValueReadBatch;

struct ValueReads {
  struct Waiting {
    std::shared_ptr<ValueReadBatch> batch;
    Future<std::vector<std::optional<Value>>> values;
  };
  // The batches not sent yet, by read version and the begin of their shard.
  std::map<std::pair<Version, Key>, Waiting> waiting;
};

// The value of `key` at `version` as the storage servers hold it (without a transaction's own
// writes).
Future<std::optional<Value>> read_stored_value(const std::shared_ptr<DatabaseState>& database, Key key,
                                               Version version);

}  // namespace keel

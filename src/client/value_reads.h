// Point reads of a transaction, batched: its reads whose keys the location cache puts in one
// shard, asked before any of them is sent, go to the shard's team as one GetValuesRequest
// (protocol/storage_interface.h) instead of one request each. A pipelined group of Redis
// commands (one transaction), an MSET's reads of its keys, or a transaction that asks for
// several keys before it awaits any, pays for the request, the storage server's handler and
// the reply once.
//
// A batch goes once the transaction's read version is known and the task that began it has
// run on (every read a loop asks joins), at most client_knobs().read_batch_keys_max keys (1:
// every read goes alone); the next key begins another batch. Batches are per transaction, not
// per process: a batch answers when its slowest key is read (one the engine must fetch from
// disk), and independent transactions should not wait for each other's reads (measured: 50
// native clients whose reads were batched across transactions lost throughput, and waiting
// for a whole turn of the event loop before sending cost sequential reads more than batching
// saved). A read whose location is not cached goes alone (it looks the location up first), and
// so does every read of a batch that met wrong_shard_server (the shard moved: each finds its new
// location). Other errors reach every read of the batch, as they would reach each read alone:
// the team's members are tried in turn (client/load_balance.h) before a failure surfaces.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "protocol/types.h"
#include "runtime/future.h"

namespace keel {

struct DatabaseState;
struct ValueReadBatch;

// A batch's values, in the order of its keys: each key's reader moves its own value out.
using BatchValues = std::shared_ptr<std::vector<std::optional<Value>>>;

struct ValueReads {
  struct Waiting {
    std::shared_ptr<ValueReadBatch> batch;
    Future<BatchValues> values;
  };
  // The batches not sent yet, by the begin of their shard.
  std::map<Key, Waiting> waiting;
  // The batch that learns the transaction's read version (read_stored_value's `learn`), kept
  // so that its readers dropping their reads do not cancel the learning (learned_read_version
  // covers a reset or destroyed transaction).
  std::optional<Future<BatchValues>> learning;
};

// Whether a read of `key` may learn the transaction's read version (below): no batch is waiting
// to be sent, and its shard's location is cached with a member in the same process as a proxy
// the database knows (elsewhere, learning the version there saves no network hop).
bool can_learn_read_version(const DatabaseState& database, const ValueReads& reads, const Key& key);

// The version `learned` (a learning read's promise) gives; if that read was cancelled before it
// learned one (its caller dropped it, the transaction was reset), one from a proxy instead.
Future<Version> learned_read_version(Future<Version> learned, std::shared_ptr<DatabaseState> database);

// The value of `key` at the transaction's read `version` as the storage servers hold it
// (without the transaction's own writes), batched with its other reads in `reads`.
//
// With `learn` (only where can_learn_read_version), the transaction has no read version yet and
// `version` waits for `learn`: the batch this read begins asks the team's member beside a proxy
// to get a fresh read version from it (GetValuesRequest::fresh_version) and sends it to
// `learn`, so the transaction learns its read version and these values in one round trip. If
// that member fails in any way (read_version_unavailable, timed_out after
// storage_read_timeout_seconds, ...), the batch asks a proxy itself and reads at that version.
Future<std::optional<Value>> read_stored_value(const std::shared_ptr<DatabaseState>& database,
                                               const std::shared_ptr<ValueReads>& reads, Key key,
                                               Future<Version> version,
                                               std::optional<Promise<Version>> learn = std::nullopt);

// The values of `keys` as read_stored_value reads each (`learn` is the first key's), in order,
// with one future and one coroutine for them all.
Future<std::vector<std::optional<Value>>> read_stored_values(const std::shared_ptr<DatabaseState>& database,
                                                             const std::shared_ptr<ValueReads>& reads,
                                                             const std::vector<Key>& keys, Future<Version> version,
                                                             std::optional<Promise<Version>> learn = std::nullopt);

}  // namespace keel

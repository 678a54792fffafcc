#include "client/value_reads.h"

#include <algorithm>

#include "client/client_knobs.h"
#include "client/database_state.h"
#include "client/load_balance.h"
#include "client/read_versions.h"
#include "runtime/assert.h"
#include "runtime/combinators.h"
#include "runtime/scheduler.h"

namespace keel {

struct ValueReadBatch {
  ShardLocation location;  // as cached when the batch began
  Version version = 0;     // known once the batch is sent
  std::vector<Key> keys;
};

namespace {

// `key` alone, following its shard wherever it moved.
Future<std::optional<Value>> read_alone(std::shared_ptr<DatabaseState> database, Key key, Version version) {
  auto send = [&key, version](const ShardLocation&, const StorageServerInterface& server) {
    GetValueRequest request;
    request.key = key;
    request.version = version;
    return server.get_value.get_reply(std::move(request));
  };
  GetValueReply reply = co_await at_shard<GetValueReply>(database.get(), key, false, send);
  co_return reply.value;
}

Future<std::optional<Value>> read_alone_at(std::shared_ptr<DatabaseState> database, Key key,
                                           Future<Version> version) {
  const Version at = co_await version;
  Future<std::optional<Value>> value = read_alone(std::move(database), std::move(key), at);
  co_return co_await value;
}

// No more keys join `batch` (it leaves the waiting ones, if it is still there).
void close(ValueReads& reads, const std::shared_ptr<ValueReadBatch>& batch) {
  auto it = reads.waiting.find(batch->location.range.begin);
  if (it != reads.waiting.end() && it->second.batch == batch) reads.waiting.erase(it);
}

// The member of `location`'s team in the same process as a proxy the database knows, if any:
// the one a batch may ask to learn the read version (it asks that proxy without a network hop).
const StorageServerInterface* member_beside_proxy(const DatabaseState& database, const ShardLocation& location) {
  if (!database.description) return nullptr;
  for (const StorageServerInterface& server : location.servers) {
    for (const ProxyInterface& proxy : database.description->proxies) {
      if (proxy.get_read_version.endpoint().address == server.get_values.endpoint().address) return &server;
    }
  }
  return nullptr;
}

// Forgets where the batch's shard was after wrong_shard_server (unless the cache already has
// something newer).
void forget_moved_shard(DatabaseState* database, const ValueReadBatch& batch) {
  const Key& first = batch.keys.front();
  const ShardLocation* cached = database->cached_location(first);
  if (cached != nullptr && cached->range == batch.location.range) database->invalidate(first);
}

// Sends `batch` once the read version is known, and not before the task that began the batch
// has run on (the reads it asks in a loop join). `reads` holds this future until then, so only
// a weak reference goes the other way: a transaction destroyed meanwhile cancels the send
// (unless someone still waits for one of its reads).
//
// With `learn`, the transaction has no read version yet and `version` waits for `learn`: the
// batch asks the member beside a proxy to get a fresh one and sends it to `learn`. If that
// fails in any way (no other member is tried, and none is avoided for it), the version comes
// from a proxy as usual and the batch is read at it.
Future<BatchValues> send_batch(std::shared_ptr<DatabaseState> database, std::weak_ptr<ValueReads> reads,
                               std::shared_ptr<ValueReadBatch> batch, Future<Version> version,
                               std::optional<Promise<Version>> learn) {
  if (version.is_ready() || learn) {
    Future<Void> rest_of_task = yield(priority::high);
    co_await rest_of_task;
  }
  bool moved = false;
  if (learn) {
    if (std::shared_ptr<ValueReads> still = reads.lock()) close(*still, batch);
    const StorageServerInterface* member = member_beside_proxy(*database, batch->location);
    KEEL_ASSERT(member != nullptr);  // as can_learn_read_version found (the batch's own copy)
    GetValuesRequest request;
    request.keys = batch->keys;
    request.fresh_version = true;
    ++database->storage_reads.reads;
    Future<GetValuesReply> fresh =
        timeout_error(member->get_values.get_reply(std::move(request)), client_knobs().storage_read_timeout_seconds);
    co_await ready(fresh);
    if (!fresh.is_error() && fresh.get().values.size() == batch->keys.size() && fresh.get().version > 0) {
      GetValuesReply reply = co_await std::move(fresh);  // ready, and ours alone: taken, not copied
      batch->version = reply.version;
      learn->send(batch->version);
      co_return std::make_shared<std::vector<std::optional<Value>>>(std::move(reply.values));
    }
    moved = fresh.is_error() && fresh.error().code() == errc::wrong_shard_server;
    if (moved) forget_moved_shard(database.get(), *batch);
    Future<Version> asked = batched_read_version(database);
    co_await ready(asked);
    if (asked.is_error()) {
      learn->send_error(asked.error());
      throw asked.error();
    }
    batch->version = asked.get();
    learn->send(batch->version);
  } else {
    batch->version = co_await version;
  }
  if (moved) throw Error(errc::wrong_shard_server);  // each key finds its new location alone
  if (std::shared_ptr<ValueReads> still = reads.lock()) close(*still, batch);
  auto send = [&batch](const StorageServerInterface& server) {
    GetValuesRequest request;
    request.keys = batch->keys;
    request.version = batch->version;
    return server.get_values.get_reply(std::move(request));
  };
  try {
    GetValuesReply reply = co_await load_balanced<GetValuesReply>(database.get(), batch->location, send);
    if (reply.values.size() != batch->keys.size()) throw Error(errc::internal_error);
    co_return std::make_shared<std::vector<std::optional<Value>>>(std::move(reply.values));
  } catch (const Error& error) {
    if (error.code() != errc::wrong_shard_server) throw;
    forget_moved_shard(database.get(), *batch);
    throw;
  }
}

// The value at `index` of the batch's answer; alone when the batch met wrong_shard_server.
Future<std::optional<Value>> take_from(Future<BatchValues> values, size_t index, std::shared_ptr<DatabaseState> database,
                                       std::shared_ptr<ValueReadBatch> batch) {
  co_await ready(values);
  if (!values.is_error()) co_return std::move((*values.get())[index]);  // this reader's alone
  if (values.error().code() != errc::wrong_shard_server) throw values.error();
  Future<std::optional<Value>> alone = read_alone(std::move(database), batch->keys[index], batch->version);
  co_return co_await alone;
}

}  // namespace

bool can_learn_read_version(const DatabaseState& database, const ValueReads& reads, const Key& key) {
  if (client_knobs().fresh_version_reads <= 0 || client_knobs().read_batch_keys_max < 2 || !reads.waiting.empty()) {
    return false;
  }
  const ShardLocation* location = database.cached_location(key);
  return location != nullptr && member_beside_proxy(database, *location) != nullptr;
}

Future<Version> learned_read_version(Future<Version> learned, std::shared_ptr<DatabaseState> database) {
  co_await ready(learned);
  if (learned.is_error() && learned.error().code() == errc::broken_promise) {
    Future<Version> asked = batched_read_version(database);
    co_return co_await asked;
  }
  co_return co_await learned;
}

namespace {

// A read's place in a batch, or (batch null) its read alone.
struct JoinedRead {
  std::shared_ptr<ValueReadBatch> batch;
  Future<BatchValues> values;
  size_t index = 0;
  Future<std::optional<Value>> alone;
};

// Puts the read of `key` in the transaction's batch of its shard (begun here if none waits).
JoinedRead join_batch(const std::shared_ptr<DatabaseState>& database, const std::shared_ptr<ValueReads>& value_reads,
                      Key key, Future<Version> version, std::optional<Promise<Version>> learn) {
  const size_t batch_max = static_cast<size_t>(std::max(1.0, client_knobs().read_batch_keys_max));
  const ShardLocation* location = batch_max > 1 ? database->cached_location(key) : nullptr;
  ValueReads& reads = *value_reads;
  KEEL_ASSERT(!learn || (location != nullptr && reads.waiting.empty()));
  if (location == nullptr) return JoinedRead{nullptr, {}, 0, read_alone_at(database, std::move(key), std::move(version))};
  auto [it, added] = reads.waiting.try_emplace(location->range.begin);
  if (!added && !it->second.batch->location.range.contains(key)) {
    // The cache learned a different shard at the same begin since the batch began.
    const std::shared_ptr<ValueReadBatch> earlier = it->second.batch;
    close(reads, earlier);
    it = reads.waiting.try_emplace(location->range.begin).first;
    added = true;
  }
  ValueReads::Waiting& waiting = it->second;
  if (added) {
    waiting.batch = std::make_shared<ValueReadBatch>();
    waiting.batch->location = *location;
    const bool learning = learn.has_value();
    waiting.values = send_batch(database, value_reads, waiting.batch, std::move(version), std::move(learn));
    if (learning) reads.learning = waiting.values;
  }
  // Copies: closing the batch below erases `waiting`.
  JoinedRead joined{waiting.batch, waiting.values, waiting.batch->keys.size(), {}};
  joined.batch->keys.push_back(std::move(key));
  if (joined.batch->keys.size() >= batch_max) close(reads, joined.batch);
  return joined;
}

// The values of `joined`, in order: one coroutine for them all, where read_stored_value's
// callers take one per key.
Future<std::vector<std::optional<Value>>> gather(std::vector<JoinedRead> joined, std::shared_ptr<DatabaseState> database) {
  std::vector<std::optional<Value>> values(joined.size());
  for (size_t i = 0; i < joined.size(); ++i) {
    JoinedRead& read = joined[i];
    if (read.batch == nullptr) {
      values[i] = co_await std::move(read.alone);
      continue;
    }
    co_await ready(read.values);
    if (!read.values.is_error()) {
      values[i] = std::move((*read.values.get())[read.index]);  // this reader's alone
      continue;
    }
    if (read.values.error().code() != errc::wrong_shard_server) throw read.values.error();
    Future<std::optional<Value>> alone = read_alone(database, read.batch->keys[read.index], read.batch->version);
    values[i] = co_await std::move(alone);
  }
  co_return values;
}

}  // namespace

Future<std::optional<Value>> read_stored_value(const std::shared_ptr<DatabaseState>& database,
                                               const std::shared_ptr<ValueReads>& value_reads, Key key,
                                               Future<Version> version, std::optional<Promise<Version>> learn) {
  JoinedRead joined = join_batch(database, value_reads, std::move(key), std::move(version), std::move(learn));
  if (joined.batch == nullptr) return std::move(joined.alone);
  return take_from(std::move(joined.values), joined.index, database, std::move(joined.batch));
}

Future<std::vector<std::optional<Value>>> read_stored_values(const std::shared_ptr<DatabaseState>& database,
                                                             const std::shared_ptr<ValueReads>& value_reads,
                                                             const std::vector<Key>& keys, Future<Version> version,
                                                             std::optional<Promise<Version>> learn) {
  std::vector<JoinedRead> joined;
  joined.reserve(keys.size());
  for (const Key& key : keys) {
    joined.push_back(join_batch(database, value_reads, key, version, std::move(learn)));
    learn.reset();  // the first read learns the version; the others join its batch or wait for it
  }
  return gather(std::move(joined), database);
}

}  // namespace keel

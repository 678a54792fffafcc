// What the storage server's actors share (private to src/server/storage_server): the engine,
// the MVCC window, the shards it gets mutations of, and the pieces each file provides.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "protocol/storage_interface.h"
#include "runtime/combinators.h"
#include "runtime/future.h"
#include "runtime/notified.h"
#include "server/storage_server/storage_server.h"
#include "server/storage_server/versioned_data.h"
#include "server/storage_server/watch_map.h"
#include "storage/kv_store.h"

namespace keel {

// One version's mutations for a shard whose data is still being fetched.
struct VersionedMutations {
  Version version = 0;
  std::vector<Mutation> mutations;
};

// A shard this server gets the mutations of: one it serves (in the shard's team), or one it
// fetches because data distribution moves it here (docs/fault_tolerance.md, "Data
// distribution as built"). The data of [range.begin, fetched_until) is in the window or the
// engine; the mutations of the rest wait in `buffered` until their part is fetched.
struct OwnedShard {
  KeyRange range;
  bool serving = false;         // in the team: reads are answered once complete
  Key fetched_until;            // range.end once complete
  Version readable_from = 0;    // the version of the last fetched piece: reads below it are too old
  std::vector<VersionedMutations> buffered;  // mutations of the unfetched part, in version order
  Future<Void> fetch;           // while incomplete
  bool complete() const { return fetched_until == range.end; }
};

// A shard this server no longer has: its range is cleared from the engine once the engine is
// past `version` (after every write of the range the window holds).
struct PendingClear {
  Version version = 0;
  KeyRange range;
  bool operator==(const PendingClear&) const = default;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(version, range);
  }
};

// What the engine records beside its data (in the same commit as the durable version): the
// shards whose data it holds complete, the clears still to make, and the last generation whose
// shard map this server followed (so a restart knows which shards it may keep).
struct ShardRecord {
  uint64_t followed_generation = 0;
  std::vector<KeyRange> complete;
  std::vector<PendingClear> clears;
  bool operator==(const ShardRecord&) const = default;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(followed_generation, complete, clears);
  }
};

// Reads asking for a fresh read version (GetValuesRequest::fresh_version) that share one request
// to a proxy, not sent yet (storage_read_versions.cpp).
struct FreshReadVersionBatch {
  uint32_t reads = 1;
  bool sent = false;
};

struct StorageState {
  StorageServerConfig config;
  std::unique_ptr<IKeyValueStore> engine;
  VersionedData data{0};
  // The version reads may use: every write at or below it is applied (lowered by a rollback).
  NotifiedValue<Version> version{0};
  // The version the engine's last finished commit made durable (data.oldest_version() moves
  // there as the commit starts; status reports this one).
  Version committed_durable = 0;
  // The version the logs were last told (popped) is durable here.
  Version popped_through = 0;
  // Every version at or below it is on every log of its generation, so every later recovery
  // version is at least as high. Never below data.oldest_version().
  Version known_committed = 0;
  // Set by a clean stop's request: make durable through this version, beyond the window.
  std::optional<Version> stop_durable_through;
  // The newest generation accepting commits this server rolled back for, once there is one.
  bool following = false;
  uint64_t followed_generation = 0;
  Promise<Void> followed;  // sent when it first follows a generation (reads wait for it)
  size_t log_index = 0;    // which of the generation's logs to peek
  uint64_t rollbacks = 0;  // how many rollbacks took writes away (reads check it)
  uint64_t shard_maps = 0;  // how many shard maps it has followed (reads check their shards again)
  WatchMap watches;
  // The shards it gets mutations of, by range.begin (node-stable: fetches hold pointers).
  std::map<Key, OwnedShard> shards;
  std::vector<PendingClear> pending_clears;  // in version order
  bool first_start = false;  // the engine had no shard record: the initial shards are empty
  ShardRecord recorded;      // as the engine last committed it
  Version fetch_floor = 0;   // fetches read at or above it: the followed generation's recovery version
  int64_t fetched_bytes = 0;
  // Engine commits made by make_durable and how long they took (for status).
  int64_t engine_commits = 0;
  double engine_commit_seconds_total = 0;
  double engine_commit_seconds_max = 0;
  // The fresh read version later reads may still share, and its request's state.
  std::shared_ptr<FreshReadVersionBatch> fresh_batch;
  std::optional<Future<Version>> fresh_version;
};

// Serves `requests` with `handler`, each answered when its work is done. The handler takes the
// request (a batch's keys are not copied); its reply promise stays here.
template <class Reply>
Future<Void> answer(ReplyPromise<Reply> promise, Future<Reply> work) {
  try {
    Reply reply = co_await std::move(work);  // taken, not copied (a batch's values)
    promise.send(std::move(reply));
  } catch (const Error& error) {
    promise.send_error(error);
  }
  co_return Void{};
}

template <class Request, class Reply>
Future<Void> serve(StorageState* state, FutureStream<Request> requests, ActorCollection* actors,
                   Future<Reply> (*handler)(StorageState*, Request)) {
  while (true) {
    Request request = co_await requests.next();
    ReplyPromise<Reply> promise = std::move(request.reply);
    Future<Reply> work = handler(state, std::move(request));
    actors->add(answer(std::move(promise), std::move(work)));
  }
}

// storage_reads.cpp: serves get_value, get_values, get_key_values, get_key and watch_value.
void serve_reads(StorageState* state, const StorageServerInterface& interface, ActorCollection* actors);
// The value of `key` at `version`: the window's, else the engine's. `served`: a client's read,
// which fails if the key's shard stopped being served here while it waited on the engine.
Future<std::optional<Value>> read_value(StorageState* state, Key key, Version version, bool served = false);

// storage_read_versions.cpp: a read version from a proxy of the generation, asked after this
// call (batched with the calls before the request goes); read_version_unavailable when none
// answers.
Future<Version> fresh_read_version(StorageState* state);

// storage_shards.cpp.
// The shard of `key` this server gets mutations of, or null.
OwnedShard* shard_for(StorageState* state, const Key& key);
// Adopts the shard map of a generation this server now follows (after any rollback to `kept`):
// shards it no longer has are cleared, new ones fetched, and those whose data may miss
// mutations (a rollback undid fetched pieces, or the map added this server to the shard after
// `previous_generation`, the last one it followed) fetched again.
void follow_shard_map(StorageState* state, const ServerDBInfo& info, uint64_t previous_generation, Version kept);
// Whether `mutation` at `version` waits for its shard's fetch (then it is buffered there).
// Clears reaching over the fetched edge are split: the fetched part is left in `mutation`.
bool buffer_if_fetching(OwnedShard* shard, Version version, Mutation& mutation);
// The record to commit with the engine at `durable` (the shards complete at or below it).
ShardRecord shard_record(const StorageState& state, Version durable);
// Loads the engine's shard record at start: its complete shards are held (not yet serving)
// until the first generation's map says which to keep.
Future<Void> load_shard_record(StorageState* state);
// The key the engine keeps the record under.
const Key& shard_record_key();

}  // namespace keel

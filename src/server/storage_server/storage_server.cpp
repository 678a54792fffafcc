#include "server/storage_server/storage_server.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <variant>
#include <vector>

#include "protocol/atomic_ops.h"
#include "protocol/limits.h"
#include "rpc/serialize.h"
#include "rpc/transport.h"
#include "runtime/assert.h"
#include "runtime/combinators.h"
#include "runtime/notified.h"
#include "runtime/trace.h"
#include "server/storage_server/storage_server_knobs.h"
#include "server/storage_server/versioned_data.h"
#include "server/storage_server/watch_map.h"
#include "storage/kv_store.h"

namespace keel {
namespace {

// Where the engine records the version its contents are as of (outside the user keyspace).
const Key durable_version_key = "\xff\xff/storage/durable_version";
// The key ranges this server was created to own: a restart with a configuration that gives it
// other ranges would serve data it does not have, so it is refused.
const Key owned_shards_key = "\xff\xff/storage/shards";
constexpr double future_version_wait_seconds = 1.0;
constexpr double durability_interval_seconds = 0.1;
// An unchanged watch is answered after this long, so clients re-register (and notice a server
// that died or lost the shard).
constexpr double watch_timeout_seconds = 10.0;
// After a failed peek, the next log is tried after this long.
constexpr double peek_retry_seconds = 0.1;

struct StorageState {
  StorageServerConfig config;
  std::unique_ptr<IKeyValueStore> engine;
  VersionedData data{0};
  // The version reads may use: every write at or below it is applied (lowered by a rollback).
  NotifiedValue<Version> version{0};
  // Every version at or below it is on every log of its generation, so every later recovery
  // version is at least as high. Never below data.oldest_version().
  Version known_committed = 0;
  // The newest generation accepting commits this server rolled back for, once there is one.
  bool following = false;
  uint64_t followed_generation = 0;
  size_t log_index = 0;  // which of the generation's logs to peek
  uint64_t rollbacks = 0;  // how many rollbacks took writes away (reads check it)
  WatchMap watches;
  // Engine commits made by make_durable and how long they took (for status).
  int64_t engine_commits = 0;
  double engine_commit_seconds_total = 0;
  double engine_commit_seconds_max = 0;
};

std::string encode_version(Version version) {
  std::string bytes(sizeof(version), '\0');
  std::memcpy(bytes.data(), &version, sizeof(version));
  return bytes;
}

Version decode_version(const std::optional<Value>& bytes) {
  if (!bytes) return 0;
  if (bytes->size() != sizeof(Version)) throw Error(errc::checksum_failed);
  Version version = 0;
  std::memcpy(&version, bytes->data(), sizeof(version));
  return version;
}

// The owned shard holding `key`; with `before`, the one holding the keys just below `key`.
const KeyRange* owning_shard(const StorageState& state, const Key& key, bool before = false) {
  for (const KeyRange& shard : state.config.shards) {
    const bool inside = before ? (shard.begin < key && key <= shard.end) : shard.contains(key);
    if (inside) return &shard;
  }
  return nullptr;
}

Future<Void> wait_for_version(StorageState* state, Version version) {
  if (version < state->data.oldest_version()) throw Error(errc::transaction_too_old);
  if (version > state->version.get()) {
    Future<Void> reached = state->version.when_at_least(version);
    std::optional<Void> arrived = co_await timeout(reached, future_version_wait_seconds);
    if (!arrived) throw Error(errc::future_version);
  }
  co_return Void{};
}

// Fails a read whose version left the window while it waited on the engine: the engine may
// already show newer data than that version. Or a rollback since the read began (`rollbacks`
// then) took writes of the version away, and they are not all back yet. (Only the pull loop
// reads above the applied version, for atomic operations, and it is the one that rolls back.)
void check_still_readable(const StorageState& state, Version version, uint64_t rollbacks) {
  if (version < state.data.oldest_version()) throw Error(errc::transaction_too_old);
  if (rollbacks != state.rollbacks && version > state.version.get()) throw Error(errc::future_version);
}

Future<std::optional<Value>> read_value(StorageState* state, Key key, Version version) {
  if (auto known = state->data.get(key, version)) co_return *known;
  const uint64_t rollbacks = state->rollbacks;
  std::optional<Value> value = co_await state->engine->get(key);
  check_still_readable(*state, version, rollbacks);
  co_return value;
}

// Up to `limit` pairs of `range` at `version`, merging the window over the engine.
Future<std::vector<KeyValue>> read_range(StorageState* state, KeyRange range, Version version, int limit,
                                         bool reverse, size_t bytes_limit) {
  std::vector<KeyValue> result;
  size_t bytes = 0;
  const int batch = std::max(limit, 16) + 16;
  const uint64_t rollbacks = state->rollbacks;
  while (static_cast<int>(result.size()) < limit && bytes < bytes_limit && !range.empty()) {
    std::vector<KeyValue> stored = co_await state->engine->get_range(range, batch, reverse);
    check_still_readable(*state, version, rollbacks);
    const bool engine_done = static_cast<int>(stored.size()) < batch;
    std::vector<Key> written = state->data.keys_with_writes(range, reverse, static_cast<size_t>(batch));
    const bool window_done = static_cast<int>(written.size()) < batch;
    // This round covers the range up to the nearer of the last engine row and the last window
    // key read (whichever source was cut short), so nothing in it is missed.
    KeyRange covered = range;
    auto shrink_to = [&](const Key& last) {
      if (reverse) covered.begin = std::max(covered.begin, last);
      else covered.end = std::min(covered.end, key_after(last));
    };
    if (!engine_done) shrink_to(stored.back().key);
    if (!window_done) shrink_to(written.back());
    std::map<Key, std::optional<Value>> merged;
    for (KeyValue& row : stored) {
      if (covered.contains(row.key)) merged[row.key] = std::move(row.value);
    }
    for (const Key& key : written) {
      if (covered.contains(key)) merged.emplace(key, std::nullopt);
    }
    auto visit = [&](const Key& key, const std::optional<Value>& engine_value) {
      std::optional<std::optional<Value>> known = state->data.get(key, version);
      const std::optional<Value>& value = known ? *known : engine_value;
      if (!value || static_cast<int>(result.size()) >= limit || bytes >= bytes_limit) return;
      bytes += key.size() + value->size();
      result.push_back(KeyValue{key, *value});
    };
    if (reverse) {
      for (auto it = merged.rbegin(); it != merged.rend(); ++it) visit(it->first, it->second);
    } else {
      for (auto& [key, value] : merged) visit(key, value);
    }
    if (engine_done && window_done) break;
    if (reverse) range.end = covered.begin;
    else range.begin = covered.end;
  }
  co_return result;
}

template <class Request, class Reply>
void reply_with(Request& request, Future<Reply>& answer) {
  if (answer.is_error()) {
    request.reply.send_error(answer.error());
  } else {
    request.reply.send(answer.get());
  }
}

Future<GetValueReply> get_value(StorageState* state, GetValueRequest request) {
  co_await wait_for_version(state, request.version);
  if (owning_shard(*state, request.key) == nullptr) throw Error(errc::wrong_shard_server);
  GetValueReply reply;
  reply.value = co_await read_value(state, request.key, request.version);
  co_return reply;
}

Future<GetKeyValuesReply> get_key_values(StorageState* state, GetKeyValuesRequest request) {
  co_await wait_for_version(state, request.version);
  const KeyRange* shard = owning_shard(*state, request.range.begin);
  if (shard == nullptr || request.range.end > shard->end) throw Error(errc::wrong_shard_server);
  if (request.limit <= 0) throw Error(errc::client_invalid_operation);
  const size_t bytes_limit = request.bytes_limit > 0 ? static_cast<size_t>(request.bytes_limit) : (1u << 20);
  std::vector<KeyValue> rows =
      co_await read_range(state, request.range, request.version, request.limit, request.reverse, bytes_limit);
  size_t bytes = 0;
  for (const KeyValue& row : rows) bytes += row.key.size() + row.value.size();
  GetKeyValuesReply reply;
  // Stopped at either limit: rows beyond the last may exist, and the client reads on after it.
  reply.more = static_cast<int>(rows.size()) >= request.limit || bytes >= bytes_limit;
  reply.data = std::move(rows);
  co_return reply;
}

Future<GetKeyReply> get_key(StorageState* state, GetKeyRequest request) {
  co_await wait_for_version(state, request.version);
  const KeySelector& selector = request.selector;
  const bool forward = selector.offset > 0;
  const Key start = selector.or_equal ? key_after(selector.key) : selector.key;
  const KeyRange* shard = owning_shard(*state, selector.key, !forward && !selector.or_equal);
  if (shard == nullptr) throw Error(errc::wrong_shard_server);
  const int wanted = forward ? selector.offset : 1 - selector.offset;
  const KeyRange range = forward ? KeyRange{std::max(start, shard->begin), shard->end}
                                 : KeyRange{shard->begin, std::min(start, shard->end)};
  std::vector<KeyValue> rows = co_await read_range(state, range, request.version, wanted, !forward, 1u << 30);
  GetKeyReply reply;
  if (static_cast<int>(rows.size()) >= wanted) {
    reply.resolved = true;
    reply.remaining = KeySelector::first_greater_or_equal(rows[static_cast<size_t>(wanted - 1)].key);
    co_return reply;
  }
  const int left = wanted - static_cast<int>(rows.size());
  // Past the edge of the keyspace the answer is the edge itself.
  reply.resolved = forward ? shard->end == "\xff\xff" : shard->begin.empty();
  reply.remaining = forward ? KeySelector{shard->end, false, left} : KeySelector{shard->begin, false, 1 - left};
  co_return reply;
}

// Answers when `key` differs from the watched value at a version at or after the request's, or
// unchanged after watch_timeout_seconds. A request older than the window compares at the latest
// version: a change in between that was undone is then missed, as watches allow.
Future<WatchValueReply> watch_value(StorageState* state, WatchValueRequest request) {
  if (request.version > state->version.get()) co_await wait_for_version(state, request.version);
  if (owning_shard(*state, request.key) == nullptr) throw Error(errc::wrong_shard_server);
  WatchMap::Registration registration(&state->watches, request.key);
  const double deadline = now() + watch_timeout_seconds;
  while (true) {
    // A rollback may have taken the server below the request's version again.
    if (request.version > state->version.get()) co_await wait_for_version(state, request.version);
    // The server has applied the request's version, so this is at least it (and in the window).
    const Version checked = std::max(request.version, state->version.get());
    std::optional<Value> value;
    try {
      value = co_await read_value(state, request.key, checked);
    } catch (const Error& error) {
      if (error.code() != errc::transaction_too_old) throw;
      continue;  // the window moved during the engine read: read again at the new latest
    }
    if (value != request.value) co_return WatchValueReply{checked, true};
    if (now() >= deadline) co_return WatchValueReply{checked, false};
    Future<Void> changed = registration.changed_after(checked);
    std::optional<Void> written = co_await timeout(changed, deadline - now());
    // The mutation is applied before the server's version reaches its version: read after that.
    if (written) co_await state->version.when_at_least(registration.last_change());
  }
}

Future<StorageServerStatus> get_status(StorageState* state, GetStorageStatusRequest) {
  StorageServerStatus status;
  status.tag = state->config.tag;
  status.address = Transport::current().local_address();
  status.engine = state->config.engine;
  status.latest_version = state->data.latest_version();
  status.durable_version = state->data.oldest_version();
  status.logical_bytes = state->engine->logical_bytes();
  status.disk_bytes = state->engine->disk_bytes();
  status.window_bytes = static_cast<int64_t>(state->data.bytes());
  status.shards = state->config.shards;
  const EngineMetrics metrics = state->engine->metrics();
  status.logical_bytes_written = metrics.logical_bytes_written;
  status.device_bytes_written = metrics.device_bytes_written;
  status.engine_commits = state->engine_commits;
  if (state->engine_commits > 0) {
    status.engine_commit_seconds_mean = state->engine_commit_seconds_total / static_cast<double>(state->engine_commits);
  }
  status.engine_commit_seconds_max = state->engine_commit_seconds_max;
  const ProcessMemory memory = world().process_memory();
  status.memory_used_bytes = memory.used_bytes;
  status.memory_budget_bytes = memory.budget_bytes;
  return status;
}

template <class Request, class Reply>
Future<Void> answer(Request request, Future<Reply> work) {
  co_await ready(work);
  reply_with(request, work);
  co_return Void{};
}

template <class Request, class Reply>
Future<Void> serve(StorageState* state, FutureStream<Request> requests, ActorCollection* actors,
                   Future<Reply> (*handler)(StorageState*, Request)) {
  while (true) {
    Request request = co_await requests.next();
    Future<Reply> work = handler(state, request);
    actors->add(answer(std::move(request), std::move(work)));
  }
}

// Applies one mutation from the log at `version` (atomic operations read the current value).
Future<Void> apply(StorageState* state, Version version, Mutation mutation) {
  VersionedData& data = state->data;
  if (mutation.type == MutationType::set_value) {
    KeyRange changed = single_key_range(mutation.param1);
    data.set(version, std::move(mutation.param1), std::move(mutation.param2));
    state->watches.changed(changed, version);
  } else if (mutation.type == MutationType::clear_range) {
    data.clear_range(version, KeyRange{mutation.param1, mutation.param2});
    state->watches.changed(KeyRange{mutation.param1, mutation.param2}, version);
  } else {
    state->watches.changed(single_key_range(mutation.param1), version);
    std::optional<Value> existing = co_await read_value(state, mutation.param1, data.latest_version());
    std::optional<Value> result = apply_atomic(mutation.type, existing, mutation.param2);
    if (result) data.set(version, mutation.param1, *result);
    else data.clear_range(version, single_key_range(mutation.param1));
  }
  co_return Void{};
}

// Whether the server may pull from the logs `info` lists: only a generation accepting commits
// (its recovery version is final), and never one older than a generation already followed.
bool can_pull_from(const StorageState& state, const ServerDBInfo& info) {
  return info.accepting_commits() && !info.tlogs.empty() && info.generation >= state.followed_generation;
}

// On first seeing a generation accepting commits: rolls the window back to what is surely in
// that generation's history, min(recovery version, known committed version) (the header says
// why), so that the pull goes on from there.
void follow_generation(StorageState* state, const ServerDBInfo& info) {
  if (state->following && info.generation <= state->followed_generation) return;
  const bool first = !state->following;
  state->following = true;
  state->followed_generation = info.generation;
  const Version latest = state->data.latest_version();
  Version keep = latest;
  if (first) {
    // Nothing pulled yet: the window is empty, and the engine holds only committed versions,
    // which every later history has. (The recovery version may be lower than the durable one:
    // the server restarted during the generation that committed them.)
    KEEL_ASSERT(latest == state->data.oldest_version());
  } else {
    keep = std::min(info.recovery_version, state->known_committed);
    // Holds because only known committed versions are made durable, and every recovery
    // version is at least every known committed version before it.
    KEEL_ASSERT(keep >= state->data.oldest_version());
    state->known_committed = keep;
  }
  TraceEvent("StorageServerFollowedGeneration")
      .detail("Tag", state->config.tag)
      .detail("Generation", info.generation)
      .detail("RecoveryVersion", info.recovery_version)
      .detail("LatestVersion", latest)
      .detail("RollbackTo", std::min(latest, keep));
  if (latest <= keep) return;
  state->data.rollback(keep);
  state->version.lower_to(keep);
  ++state->rollbacks;
}

// Waits for a peek unless the generation changes first: false if it did (the peek is then
// abandoned, and its reply would be of no use).
Future<bool> answered_in_generation(AsyncVar<ServerDBInfo>* db_info, Future<TLogPeekReply> peeked,
                                    uint64_t generation) {
  while (!peeked.is_ready()) {
    Future<Void> answered = ready(peeked);
    Future<Void> changed = db_info->on_change();
    Future<std::variant<Void, Void>> first = race(std::move(answered), std::move(changed));
    co_await first;
    // A publication of the same generation (e.g. a new id) leaves the peek outstanding.
    if (db_info->get().generation != generation) co_return false;
  }
  co_return true;
}

Future<Void> apply_reply(StorageState* state, TLogPeekReply reply) {
  for (VersionedMutations& batch : reply.messages) {
    if (batch.version <= state->data.latest_version()) continue;
    for (Mutation& mutation : batch.mutations) co_await apply(state, batch.version, std::move(mutation));
    state->data.advance_to(batch.version);
  }
  if (reply.end - 1 > state->data.latest_version()) state->data.advance_to(reply.end - 1);
  state->known_committed = std::max(state->known_committed, reply.known_committed_version);
  state->version.set(state->data.latest_version());
  co_return Void{};
}

Future<Void> pull(StorageState* state) {
  AsyncVar<ServerDBInfo>* db_info = state->config.db_info;
  while (true) {
    if (!can_pull_from(*state, db_info->get())) {
      Future<Void> changed = db_info->on_change();
      co_await changed;
      continue;
    }
    follow_generation(state, db_info->get());
    const uint64_t generation = db_info->get().generation;
    const std::vector<TLogInterface>& logs = db_info->get().tlogs;
    const TLogInterface log = logs[state->log_index % logs.size()];
    TLogPeekRequest request;
    request.tag = state->config.tag;
    request.begin = state->data.latest_version() + 1;
    Future<TLogPeekReply> peeked = log.peek.get_reply(request);
    Future<bool> answered = answered_in_generation(db_info, peeked, generation);
    if (!co_await answered) continue;
    if (peeked.is_error()) {
      TraceEvent(Severity::warn, "StorageServerPeekFailed")
          .detail("Tag", state->config.tag)
          .detail("Generation", generation)
          .detail("Log", log.id)
          .error(peeked.error())
          .suppress_for(5);
      ++state->log_index;  // every log holds every tag: try the next one
      co_await delay(peek_retry_seconds);
      continue;
    }
    Future<Void> applied = apply_reply(state, peeked.get());
    co_await applied;
  }
}

// Tells every log of the current generation (each holds this server's tag) that versions up to
// `version` are durable here. Errors are ignored: a log may be gone, and the next pop covers it.
Future<Void> pop_logs(StorageState* state, Version version) {
  std::vector<Future<Void>> popped;
  for (const TLogInterface& log : state->config.db_info->get().tlogs) {
    TLogPopRequest pop;
    pop.tag = state->config.tag;
    pop.up_to = version;
    popped.push_back(ready(log.pop.get_reply(pop)));
  }
  Future<std::vector<Void>> all = when_all(std::move(popped));
  co_await all;
  co_return Void{};
}

// Every durability interval, or at once while behind, moves the versions that left the MVCC
// window (and are committed on every log) into the engine, at most storage_durable_batch_bytes
// (or what the engine prefers) per commit.
Future<Void> make_durable(StorageState* state) {
  bool behind = false;
  while (true) {
    co_await delay(behind ? 0 : durability_interval_seconds);
    const Version window_end = std::min(state->data.latest_version() - mvcc_window_versions, state->known_committed);
    behind = false;
    if (window_end <= state->data.oldest_version()) continue;
    const size_t batch_bytes = std::min(static_cast<size_t>(storage_server_knobs().storage_durable_batch_bytes),
                                        state->engine->preferred_commit_bytes());
    const Version target = state->data.durable_step(window_end, batch_bytes);
    behind = target < window_end;
    for (Mutation& mutation : state->data.make_durable(target)) {
      if (mutation.type == MutationType::set_value) state->engine->set(mutation.param1, mutation.param2);
      else state->engine->clear_range(KeyRange{mutation.param1, mutation.param2});
    }
    state->engine->set(durable_version_key, encode_version(target));
    const double commit_started = now();
    co_await state->engine->commit();
    const double commit_seconds = now() - commit_started;
    ++state->engine_commits;
    state->engine_commit_seconds_total += commit_seconds;
    state->engine_commit_seconds_max = std::max(state->engine_commit_seconds_max, commit_seconds);
    co_await pop_logs(state, target);
  }
}

}  // namespace

// Records the shards on the first start; afterwards checks the configuration still agrees.
Future<Void> check_owned_shards(StorageState* state) {
  std::optional<Value> stored = co_await state->engine->get(owned_shards_key);
  if (!stored) {
    state->engine->set(owned_shards_key, serialize_to_string(state->config.shards));
    co_await state->engine->commit();
    co_return Void{};
  }
  const auto owned = deserialize_from_string<std::vector<KeyRange>>(*stored);
  if (owned != state->config.shards) {
    TraceEvent(Severity::error, "StorageServerShardsMismatch")
        .detail("Tag", state->config.tag)
        .detail("Stored", owned.size())
        .detail("Configured", state->config.shards.size());
    throw Error(errc::shard_map_mismatch);
  }
  co_return Void{};
}

Future<Void> run_storage_server(StorageServerInterface interface, StorageServerConfig config) {
  KEEL_ASSERT(config.db_info != nullptr);
  StorageState state;
  state.config = std::move(config);
  state.engine = co_await open_kv_store(state.config.engine, state.config.directory);
  std::optional<Value> durable = co_await state.engine->get(durable_version_key);
  const Version durable_version = decode_version(durable);
  state.data = VersionedData(durable_version);
  state.version.set(durable_version);
  state.known_committed = durable_version;  // it was known committed when it was made durable
  co_await check_owned_shards(&state);
  TraceEvent("StorageServerStarted").detail("Tag", state.config.tag).detail("DurableVersion", durable_version);
  ActorCollection actors;
  actors.add(pull(&state));
  actors.add(make_durable(&state));
  actors.add(serve<GetValueRequest, GetValueReply>(&state, interface.get_value.requests(), &actors, get_value));
  actors.add(serve<GetKeyValuesRequest, GetKeyValuesReply>(&state, interface.get_key_values.requests(), &actors,
                                                           get_key_values));
  actors.add(serve<GetKeyRequest, GetKeyReply>(&state, interface.get_key.requests(), &actors, get_key));
  actors.add(serve<GetStorageStatusRequest, StorageServerStatus>(&state, interface.get_status.requests(), &actors,
                                                                 get_status));
  actors.add(serve<WatchValueRequest, WatchValueReply>(&state, interface.watch_value.requests(), &actors, watch_value));
  co_await actors.result();
  co_return Void{};
}

}  // namespace keel

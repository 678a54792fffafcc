// The storage server's reads: get_value, get_values, get_key_values, get_key and watch_value,
// at any version of the window, each from a shard this server serves and holds complete.
#include <algorithm>
#include <map>
#include <span>

#include "runtime/combinators.h"
#include "server/storage_server/storage_server_knobs.h"
#include "server/storage_server/storage_state.h"

namespace keel {
namespace {

constexpr double future_version_wait_seconds = 1.0;
// An unchanged watch is answered after this long, so clients re-register (and notice a server
// that died or lost the shard).
constexpr double watch_timeout_seconds = 10.0;
// A range read whose engine rounds keep overlapping engine commits gives up with future_version
// after this many rereads (the client retries).
constexpr int range_rereads_max = 20;

// The shard this server serves that holds `key` (with `before`, the keys just below `key`),
// complete: else wrong_shard_server. A read below the version its last piece was fetched at is
// transaction_too_old: the data before it is not here.
const OwnedShard& serving_shard(const StorageState& state, const Key& key, Version version, bool before = false) {
  auto it = before ? state.shards.lower_bound(key) : state.shards.upper_bound(key);
  if (it == state.shards.begin()) throw Error(errc::wrong_shard_server);
  const OwnedShard& shard = std::prev(it)->second;
  const bool inside = before ? (shard.range.begin < key && key <= shard.range.end) : shard.range.contains(key);
  if (!inside || !shard.serving || !shard.complete()) throw Error(errc::wrong_shard_server);
  if (version < shard.readable_from) throw Error(errc::transaction_too_old);
  return shard;
}

Future<Void> wait_for_version(StorageState* state, Version version) {
  if (!state->following) {
    // Which shards it serves is known once it follows a generation.
    Future<Void> followed = state->followed.get_future();
    std::optional<Void> arrived = co_await timeout(followed, future_version_wait_seconds);
    if (!arrived) throw Error(errc::future_version);
  }
  if (version < state->data.oldest_version()) throw Error(errc::transaction_too_old);
  if (version > state->version.get()) {
    Future<Void> reached = state->version.when_at_least(version);
    std::optional<Void> arrived = co_await timeout(reached, future_version_wait_seconds);
    if (!arrived) throw Error(errc::future_version);
  }
  co_return Void{};
}

// What a read notes before it waits on the engine, for check_still_readable after.
struct ReadStart {
  explicit ReadStart(const StorageState& state) : rollbacks(state.rollbacks), shard_maps(state.shard_maps) {}
  uint64_t rollbacks;
  uint64_t shard_maps;
};

// Fails a read of `keys` at `version` whose answer may have changed while it waited on the
// engine (since `start`):
// - the version left the window: the engine may already show newer data than that version;
// - a rollback took writes of the version away, and they are not all back yet (only the pull
//   loop reads above the applied version, for atomic operations, and it is the one that rolls
//   back);
// - a new shard map took away (or made incomplete) a shard holding one of the keys:
//   wrong_shard_server. The writes a rollback took from a shard no longer this server's never
//   come back (its mutations are not applied any more), though the applied version does, and
//   the engine clears the shard. (settings_change.toml seed 92, at the key filter's commit: a
//   range read that began before its shard moved away returned keys cleared at its version.)
template <class Keys>
void check_still_readable(const StorageState& state, Version version, const ReadStart& start, const Keys& keys) {
  if (version < state.data.oldest_version()) throw Error(errc::transaction_too_old);
  if (start.rollbacks != state.rollbacks && version > state.version.get()) throw Error(errc::future_version);
  if (start.shard_maps != state.shard_maps) {
    for (const Key& key : keys) serving_shard(state, key, version);
  }
}

}  // namespace

Future<std::optional<Value>> read_value(StorageState* state, Key key, Version version, bool served) {
  if (auto known = state->data.get(key, version)) co_return *known;
  const ReadStart start(*state);
  std::optional<Value> value = co_await state->engine->get(key);
  check_still_readable(*state, version, start, std::span<const Key>(&key, served ? 1 : 0));
  co_return value;
}

namespace {

// Up to `limit` pairs of `range` at `version`, merging the window over the engine.
Future<std::vector<KeyValue>> read_range(StorageState* state, KeyRange range, Version version, int limit,
                                         bool reverse, size_t bytes_limit) {
  std::vector<KeyValue> result;
  size_t bytes = 0;
  const int batch = std::max(limit, 16) + 16;
  const size_t round_bytes = std::max<size_t>(1, static_cast<size_t>(storage_server_knobs().storage_range_round_bytes));
  const ReadStart start(*state);
  const Key first = range.begin;  // in the one shard the range lies in
  int rereads = 0;
  while (static_cast<int>(result.size()) < limit && bytes < bytes_limit && !range.empty()) {
    // The engine answers as of the moment it is asked. The window is merged in after the
    // answer; if make_durable moved writes from the window to the engine meanwhile, the answer
    // may lack them while the window no longer has them (a stale row, or a cleared one back),
    // so the round is read again.
    const uint64_t handed_out_asked = state->data.handed_out();
    std::vector<KeyValue> stored = co_await state->engine->get_range(range, batch, reverse, round_bytes);
    check_still_readable(*state, version, start, std::span<const Key>(&first, 1));
    if (state->data.handed_out() != handed_out_asked) {
      if (++rereads > range_rereads_max) throw Error(errc::future_version);  // retryable
      continue;
    }
    // The engine stops at `batch` rows or once their bytes reach its limit; short of both, it
    // reached the end of the range.
    size_t stored_bytes = 0;
    for (const KeyValue& row : stored) stored_bytes += row.key.size() + row.value.size();
    const bool engine_done = static_cast<int>(stored.size()) < batch && stored_bytes < round_bytes;
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

Future<GetValueReply> get_value(StorageState* state, GetValueRequest request) {
  co_await wait_for_version(state, request.version);
  serving_shard(*state, request.key, request.version);
  GetValueReply reply;
  reply.value = co_await read_value(state, request.key, request.version, true);
  co_return reply;
}

// Every key as read_value reads it: the window's values at once, the engine's all asked before
// any is awaited (the engine gathers them into one read).
Future<GetValuesReply> get_values(StorageState* state, GetValuesRequest request) {
  if (request.keys.size() > GetValuesRequest::keys_max) throw Error(errc::client_invalid_operation);
  if (request.fresh_version) {
    // Keys this server does not serve fail before a proxy is asked (and admits anything).
    if (!state->following) throw Error(errc::read_version_unavailable);
    for (const Key& key : request.keys) serving_shard(*state, key, state->version.get());
    Future<Version> fresh = fresh_read_version(state);
    request.version = co_await fresh;
  }
  co_await wait_for_version(state, request.version);
  for (const Key& key : request.keys) serving_shard(*state, key, request.version);
  GetValuesReply reply;
  reply.version = request.version;
  reply.values.resize(request.keys.size());
  std::vector<std::pair<size_t, Future<std::optional<Value>>>> stored;
  const ReadStart start(*state);
  // The keys' table slots, then their entries, are fetched from memory together instead of one
  // key after another (one key has nothing to overlap with).
  for (const int stage : {0, 1}) {
    if (request.keys.size() < 2) break;
    for (const Key& key : request.keys) {
      state->data.prefetch(key, stage);
      state->engine->prefetch(key, stage);
    }
  }
  for (size_t i = 0; i < request.keys.size(); ++i) {
    if (auto known = state->data.get(request.keys[i], request.version)) {
      reply.values[i] = std::move(*known);
    } else {
      stored.emplace_back(i, state->engine->get(request.keys[i]));
    }
  }
  for (auto& [i, read] : stored) reply.values[i] = co_await std::move(read);
  if (!stored.empty()) check_still_readable(*state, request.version, start, request.keys);
  co_return reply;
}

Future<GetKeyValuesReply> get_key_values(StorageState* state, GetKeyValuesRequest request) {
  co_await wait_for_version(state, request.version);
  const KeyRange& shard = serving_shard(*state, request.range.begin, request.version).range;
  if (request.range.end > shard.end) throw Error(errc::wrong_shard_server);
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
  const KeyRange shard = serving_shard(*state, selector.key, request.version, !forward && !selector.or_equal).range;
  const int wanted = forward ? selector.offset : 1 - selector.offset;
  const KeyRange range = forward ? KeyRange{std::max(start, shard.begin), shard.end}
                                 : KeyRange{shard.begin, std::min(start, shard.end)};
  std::vector<KeyValue> rows = co_await read_range(state, range, request.version, wanted, !forward, 1u << 30);
  GetKeyReply reply;
  if (static_cast<int>(rows.size()) >= wanted) {
    reply.resolved = true;
    reply.remaining = KeySelector::first_greater_or_equal(rows[static_cast<size_t>(wanted - 1)].key);
    co_return reply;
  }
  const int left = wanted - static_cast<int>(rows.size());
  // Past the edge of the keyspace the answer is the edge itself.
  reply.resolved = forward ? shard.end == "\xff\xff" : shard.begin.empty();
  reply.remaining = forward ? KeySelector{shard.end, false, left} : KeySelector{shard.begin, false, 1 - left};
  co_return reply;
}

// Answers when `key` differs from the watched value at a version at or after the request's, or
// unchanged after watch_timeout_seconds. A request older than the window compares at the latest
// version: a change in between that was undone is then missed, as watches allow.
Future<WatchValueReply> watch_value(StorageState* state, WatchValueRequest request) {
  if (request.version > state->version.get()) co_await wait_for_version(state, request.version);
  serving_shard(*state, request.key, request.version);
  WatchMap::Registration registration(&state->watches, request.key);
  const double deadline = now() + watch_timeout_seconds;
  while (true) {
    // A rollback may have taken the server below the request's version again.
    if (request.version > state->version.get()) co_await wait_for_version(state, request.version);
    // The server has applied the request's version, so this is at least it (and in the window).
    const Version checked = std::max(request.version, state->version.get());
    std::optional<Value> value;
    try {
      value = co_await read_value(state, request.key, checked, true);
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

}  // namespace

void serve_reads(StorageState* state, const StorageServerInterface& interface, ActorCollection* actors) {
  actors->add(serve<GetValueRequest, GetValueReply>(state, interface.get_value.requests(), actors, get_value));
  actors->add(serve<GetValuesRequest, GetValuesReply>(state, interface.get_values.requests(), actors, get_values));
  actors->add(serve<GetKeyValuesRequest, GetKeyValuesReply>(state, interface.get_key_values.requests(), actors,
                                                            get_key_values));
  actors->add(serve<GetKeyRequest, GetKeyReply>(state, interface.get_key.requests(), actors, get_key));
  actors->add(serve<WatchValueRequest, WatchValueReply>(state, interface.watch_value.requests(), actors, watch_value));
}

}  // namespace keel

// The storage server's shards under data distribution (docs/fault_tolerance.md, "Data
// distribution as built"): which it has, fetching the ones moved to it from their team, and
// clearing the ones moved away.
//
// A fetch reads its shard from a team member in pieces, each at a version `at` this server
// has applied (at or above the generation's recovery version, so every later mutation of the
// shard reaches this server). Meanwhile the shard's mutations wait in its buffer. A piece is
// written into the window at its latest version: a clear of the piece, its rows as of `at`,
// then the buffered mutations of the piece above `at`, in order; from then on the piece's
// mutations are applied as they come. Reads are answered once the shard is complete, from the
// version of its last piece on.
#include <algorithm>

#include "protocol/atomic_ops.h"
#include "protocol/well_known.h"
#include "rpc/serialize.h"
#include "runtime/assert.h"
#include "runtime/trace.h"
#include "server/storage_server/storage_server_knobs.h"
#include "server/storage_server/storage_state.h"

namespace keel {
namespace {

// Where the engine keeps the ShardRecord (outside the user keyspace), and where servers of
// earlier releases kept the ranges they were created with.
const Key record_key = "\xff\xff/storage/shard_record";
const Key legacy_record_key = "\xff\xff/storage/shards";
constexpr double fetch_read_timeout_seconds = 2.0;
constexpr double fetch_retry_seconds = 0.1;
constexpr int fetch_rows_max = 100000;

// Applies a set or an atomic operation to the window at `version`, where the key's value is
// known (the window holds a write or clear of it).
void apply_to_window(StorageState* state, Version version, Mutation& mutation) {
  VersionedData& data = state->data;
  if (mutation.type == MutationType::set_value) {
    data.set(version, std::move(mutation.param1), std::move(mutation.param2));
    return;
  }
  std::optional<std::optional<Value>> existing = data.get(mutation.param1, version);
  KEEL_ASSERT(existing.has_value());
  std::optional<Value> result = apply_atomic(mutation.type, *existing, mutation.param2);
  if (result) data.set(version, mutation.param1, *result);
  else data.clear_range(version, single_key_range(mutation.param1));
}

// Writes a fetched piece (its rows as of `at`) and the buffered mutations of the piece above
// `at` into the window at its latest version, or at the newest buffered version when the pull
// loop is halfway through a batch (an atomic operation waiting on the engine) whose mutations
// of the shard were buffered already: a write must never sit below its own version, where a
// rollback to the version before would keep it. Synchronous: no other write comes between.
void install_piece(StorageState* state, OwnedShard& shard, const KeyRange& piece, Version at,
                   std::vector<KeyValue>& rows) {
  VersionedData& data = state->data;
  Version version = data.latest_version();
  if (!shard.buffered.empty()) version = std::max(version, shard.buffered.back().version);
  KEEL_ASSERT(version > data.oldest_version() && version >= at);
  data.clear_range(version, piece);
  for (KeyValue& row : rows) data.set(version, std::move(row.key), std::move(row.value));
  std::vector<VersionedMutations> still;
  for (VersionedMutations& batch : shard.buffered) {
    VersionedMutations left{batch.version, {}};
    for (Mutation& mutation : batch.mutations) {
      if (mutation.type == MutationType::clear_range) {
        // Buffered clears start at or above the piece (the fetched edge only moves up).
        const KeyRange cleared{mutation.param1, mutation.param2};
        const KeyRange inside{cleared.begin, std::min(cleared.end, piece.end)};
        if (batch.version > at && !inside.empty()) data.clear_range(version, inside);
        if (cleared.end > piece.end) {
          left.mutations.push_back(Mutation{MutationType::clear_range, std::max(cleared.begin, piece.end), cleared.end});
        }
      } else if (!piece.contains(mutation.param1)) {
        left.mutations.push_back(std::move(mutation));
      } else if (batch.version > at) {
        apply_to_window(state, version, mutation);
      }
    }
    if (!left.mutations.empty()) still.push_back(std::move(left));
  }
  shard.buffered = std::move(still);
  shard.fetched_until = piece.end;
  shard.readable_from = version;
  state->watches.changed(piece, version);
}

// The members of the shard's team in the published map, other than this server.
std::vector<StorageLocation> fetch_sources(const StorageState& state, const KeyRange& range) {
  std::vector<StorageLocation> sources;
  for (const ShardAssignment& assignment : state.config.db_info->get().shards) {
    if (assignment.range != range) continue;
    for (const StorageLocation& location : state.config.storage) {
      if (location.tag != state.config.tag && shard_has_member(assignment.tags, location.tag)) sources.push_back(location);
    }
  }
  return sources;
}

Future<Void> fetch_shard(StorageState* state, OwnedShard* shard) {
  size_t attempt = 0;
  const double started = now();
  int64_t bytes = 0;
  while (!shard->complete()) {
    Future<Void> caught_up = state->version.when_at_least(state->fetch_floor);
    co_await caught_up;
    if (state->data.latest_version() <= state->data.oldest_version()) {
      // A piece is written at the window's latest version, which must be above the engine's.
      Future<Void> next = state->version.when_at_least(state->data.latest_version() + 1);
      co_await next;
      continue;
    }
    const std::vector<StorageLocation> sources = fetch_sources(*state, shard->range);
    if (sources.empty()) {
      TraceEvent(Severity::warn, "StorageServerFetchNoSource").detail("Tag", state->config.tag).suppress_for(5);
      co_await delay(1.0);
      continue;
    }
    const StorageLocation& source = sources[attempt % sources.size()];
    GetKeyValuesRequest request;
    request.range = KeyRange{shard->fetched_until, shard->range.end};
    request.version = state->version.get();
    request.limit = fetch_rows_max;
    request.bytes_limit = static_cast<int64_t>(storage_server_knobs().storage_fetch_bytes);
    const StorageServerInterface peer = storage_at(source.location.address, source.location.index, source.tag);
    Future<GetKeyValuesReply> read = timeout_error(peer.get_key_values.get_reply(request), fetch_read_timeout_seconds);
    co_await ready(read);
    if (read.is_error()) {
      TraceEvent(Severity::info, "StorageServerFetchRetrying")
          .detail("Tag", state->config.tag)
          .detail("Source", source.tag)
          .error(read.error())
          .suppress_for(1);
      ++attempt;
      co_await delay(fetch_retry_seconds);
      continue;
    }
    GetKeyValuesReply reply = read.get();
    for (const KeyValue& row : reply.data) bytes += static_cast<int64_t>(row.key.size() + row.value.size());
    const Key end = reply.more && !reply.data.empty() ? key_after(reply.data.back().key) : shard->range.end;
    install_piece(state, *shard, KeyRange{request.range.begin, end}, request.version, reply.data);
  }
  state->fetched_bytes += bytes;
  TraceEvent("StorageServerFetched")
      .detail("Tag", state->config.tag)
      .detail("Begin", escape_key(shard->range.begin))
      .detail("Bytes", bytes)
      .detail("Seconds", now() - started)
      .detail("Version", shard->readable_from);
  co_return Void{};
}

void reset(OwnedShard& shard) {
  shard.fetched_until = shard.range.begin;
  shard.readable_from = 0;
  shard.buffered.clear();
}

}  // namespace

const Key& shard_record_key() { return record_key; }

OwnedShard* shard_for(StorageState* state, const Key& key) {
  auto it = state->shards.upper_bound(key);
  if (it == state->shards.begin()) return nullptr;
  OwnedShard& shard = std::prev(it)->second;
  return shard.range.contains(key) ? &shard : nullptr;
}

bool buffer_if_fetching(OwnedShard* shard, Version version, Mutation& mutation) {
  if (shard->complete()) return false;
  auto buffer = [&](Mutation piece) {
    if (shard->buffered.empty() || shard->buffered.back().version != version) {
      shard->buffered.push_back(VersionedMutations{version, {}});
    }
    shard->buffered.back().mutations.push_back(std::move(piece));
  };
  if (mutation.type == MutationType::clear_range) {
    if (mutation.param2 <= shard->fetched_until) return false;
    if (mutation.param1 < shard->fetched_until) {
      buffer(Mutation{MutationType::clear_range, shard->fetched_until, mutation.param2});
      mutation.param2 = shard->fetched_until;  // the fetched part is applied now
      return false;
    }
    buffer(std::move(mutation));
    return true;
  }
  if (mutation.param1 < shard->fetched_until) return false;
  buffer(std::move(mutation));
  return true;
}

void follow_shard_map(StorageState* state, const ServerDBInfo& info, uint64_t previous_generation, Version kept) {
  const Tag tag = state->config.tag;
  ++state->shard_maps;
  state->fetch_floor = info.recovery_version;
  // Every fetch starts over from where it got to: its version must be at or above the new floor.
  for (auto& [begin, shard] : state->shards) shard.fetch = Future<Void>();
  std::map<Key, OwnedShard> next;
  for (const ShardAssignment& assignment : info.shards) {
    if (!assignment.has(tag)) continue;
    OwnedShard shard;
    auto found = state->shards.find(assignment.range.begin);
    if (found != state->shards.end() && found->second.range == assignment.range) {
      shard = std::move(found->second);
      state->shards.erase(found);
      // The window's writes above `kept` are gone, pieces written there among them. And a
      // server that skipped generations may have been dropped from the shard and added again
      // in them, missing its mutations in between: unless no member was added after the first
      // generation it skipped (the maps of consecutive generations show every change).
      std::erase_if(shard.buffered, [kept](const VersionedMutations& batch) { return batch.version > kept; });
      const bool skipped = info.generation > previous_generation + 1;
      const bool maybe_readded = skipped && assignment.joined_generation(tag) > previous_generation + 1;
      if (shard.readable_from > kept || maybe_readded) reset(shard);
    } else {
      shard.range = assignment.range;
      const bool initial = state->first_start && assignment.joined_generation(tag) == 0;
      shard.fetched_until = initial ? assignment.range.end : assignment.range.begin;
    }
    shard.serving = shard_has_member(assignment.tags, tag);
    next.emplace(assignment.range.begin, std::move(shard));
  }
  for (PendingClear& clear : state->pending_clears) clear.version = std::min(clear.version, kept);
  for (auto& [begin, shard] : state->shards) {
    TraceEvent("StorageServerDroppedShard").detail("Tag", tag).detail("Begin", escape_key(begin));
    state->pending_clears.push_back(PendingClear{state->data.latest_version(), shard.range});
  }
  state->shards = std::move(next);
  state->first_start = false;
  for (auto& [begin, shard] : state->shards) {
    if (!shard.complete()) shard.fetch = fetch_shard(state, &shard);
  }
}

ShardRecord shard_record(const StorageState& state, Version durable) {
  ShardRecord record;
  record.followed_generation = state.followed_generation;
  for (const auto& [begin, shard] : state.shards) {
    if (shard.complete() && shard.readable_from <= durable) record.complete.push_back(shard.range);
  }
  for (const PendingClear& clear : state.pending_clears) {
    if (clear.version > durable) record.clears.push_back(clear);
  }
  return record;
}

Future<Void> load_shard_record(StorageState* state) {
  std::optional<Value> stored = co_await state->engine->get(record_key);
  if (!stored) {
    std::optional<Value> legacy = co_await state->engine->get(legacy_record_key);
    if (legacy) {
      state->recorded.complete = deserialize_from_string<std::vector<KeyRange>>(*legacy);
    } else {
      state->first_start = true;
    }
  } else {
    state->recorded = deserialize_from_string<ShardRecord>(*stored);
  }
  for (const KeyRange& range : state->recorded.complete) {
    OwnedShard shard;
    shard.range = range;
    shard.fetched_until = range.end;
    state->shards.emplace(range.begin, std::move(shard));
  }
  state->pending_clears = state->recorded.clears;
  state->followed_generation = state->recorded.followed_generation;
  co_return Void{};
}

}  // namespace keel

#include "server/proxy/proxy.h"

#include <algorithm>
#include <map>
#include <set>

#include "protocol/atomic_ops.h"
#include "protocol/well_known.h"
#include "rpc/serialize.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"

namespace keel {
namespace {

constexpr size_t commit_batch_transactions_max = 1000;
constexpr size_t commit_batch_bytes_max = 8 * 1024 * 1024;
constexpr size_t grv_batch_requests_max = 10000;

struct ProxyState {
  ClusterConfig cluster;
  ProxyInterface self;
  SequencerInterface sequencer;
  std::vector<ResolverInterface> resolvers;
  std::vector<TLogInterface> tlogs;
  std::map<Tag, StorageServerInterface> storage;
  Version known_committed = 0;
  // The shard map clients are told: the configuration's until the copy in the system keyspace
  // has been read back and checked (shard_map_ready).
  std::vector<ShardAssignment> shards;
  Promise<Void> shard_map_ready;
};

const Key key_servers_prefix = "\xff/keyServers/";
const KeyRange key_servers_range{key_servers_prefix, "\xff/keyServers0"};
const Key last_start_key = "\xff/lastStart";
constexpr int shard_map_rows_max = 100000;

size_t request_bytes(const CommitTransactionRequest& request) {
  size_t bytes = 0;
  for (const Mutation& mutation : request.mutations) bytes += mutation.expected_size();
  return bytes;
}

// The part of each range within `limit`.
std::vector<KeyRange> clip(const std::vector<KeyRange>& ranges, const KeyRange& limit) {
  std::vector<KeyRange> clipped;
  for (const KeyRange& range : ranges) {
    KeyRange part{std::max(range.begin, limit.begin), std::min(range.end, limit.end)};
    if (!part.empty()) clipped.push_back(std::move(part));
  }
  return clipped;
}

ResolveRequest resolve_request_for(const ProxyState& state, size_t resolver, const std::vector<CommitTransactionRequest>& batch,
                                   const GetCommitVersionReply& version) {
  const KeyRange& range = state.cluster.resolvers[resolver].range;
  ResolveRequest request;
  request.generation = version.generation;
  request.prev_version = version.prev_version;
  request.version = version.version;
  for (const CommitTransactionRequest& transaction : batch) {
    ResolveTransaction resolve;
    resolve.read_version = transaction.read_version;
    resolve.reads = clip(transaction.read_conflict_ranges, range);
    resolve.writes = clip(transaction.write_conflict_ranges, range);
    request.transactions.push_back(std::move(resolve));
  }
  return request;
}

// Each transaction's outcome over every resolver: committed only if all say so.
std::vector<ResolveOutcome> combine(const std::vector<ResolveReply>& replies, size_t transactions) {
  std::vector<ResolveOutcome> outcomes(transactions, ResolveOutcome::committed);
  for (const ResolveReply& reply : replies) {
    KEEL_ASSERT(reply.outcomes.size() == transactions);
    for (size_t i = 0; i < transactions; ++i) {
      if (reply.outcomes[i] == ResolveOutcome::too_old) outcomes[i] = ResolveOutcome::too_old;
      else if (reply.outcomes[i] == ResolveOutcome::conflict && outcomes[i] == ResolveOutcome::committed)
        outcomes[i] = ResolveOutcome::conflict;
    }
  }
  return outcomes;
}

// Adds `mutation` to the per-log lists, tagged with the servers owning its keys; clears are
// split at shard boundaries so each piece goes only where it belongs.
void tag_mutation(const ProxyState& state, const Mutation& mutation, std::vector<std::vector<TaggedMutation>>& per_log) {
  auto add = [&](const Mutation& piece, const std::vector<Tag>& tags) {
    std::map<size_t, std::vector<Tag>> by_log;
    for (Tag tag : tags) by_log[state.cluster.tlog_for(tag)].push_back(tag);
    for (auto& [log, log_tags] : by_log) per_log[log].push_back(TaggedMutation{log_tags, piece});
  };
  if (mutation.type != MutationType::clear_range) {
    add(mutation, state.cluster.shards[state.cluster.shard_index(mutation.param1)].tags);
    return;
  }
  const KeyRange cleared{mutation.param1, mutation.param2};
  for (size_t i = state.cluster.shard_index(cleared.begin); i < state.cluster.shards.size(); ++i) {
    const ShardAssignment& shard = state.cluster.shards[i];
    if (shard.range.begin >= cleared.end) break;
    const Mutation piece{MutationType::clear_range, std::max(cleared.begin, shard.range.begin),
                         std::min(cleared.end, shard.range.end)};
    add(piece, shard.tags);
  }
}

std::vector<std::vector<TaggedMutation>> tag_batch(const ProxyState& state, const std::vector<CommitTransactionRequest>& batch,
                                                   const std::vector<ResolveOutcome>& outcomes, Version version) {
  std::vector<std::vector<TaggedMutation>> per_log(state.tlogs.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    if (outcomes[i] != ResolveOutcome::committed) continue;
    for (const Mutation& mutation : batch[i].mutations) {
      if (is_versionstamped(mutation.type)) {
        tag_mutation(state, apply_versionstamp(mutation, version, static_cast<uint16_t>(i)), per_log);
      } else {
        tag_mutation(state, mutation, per_log);
      }
    }
  }
  return per_log;
}

void reply_to_batch(std::vector<CommitTransactionRequest>& batch, const std::vector<ResolveOutcome>& outcomes,
                    Version version) {
  for (size_t i = 0; i < batch.size(); ++i) {
    switch (outcomes[i]) {
      case ResolveOutcome::committed:
        batch[i].reply.send(CommitReply{version, static_cast<uint16_t>(i)});
        break;
      case ResolveOutcome::conflict:
        batch[i].reply.send_error(Error(errc::not_committed));
        break;
      case ResolveOutcome::too_old:
        batch[i].reply.send_error(Error(errc::transaction_too_old));
        break;
    }
  }
}

Future<Void> commit_batch(ProxyState* state, std::vector<CommitTransactionRequest> batch, GetCommitVersionReply version) {
  std::vector<ResolveOutcome> outcomes(batch.size(), ResolveOutcome::conflict);
  try {
    std::vector<Future<ResolveReply>> resolving;
    for (size_t i = 0; i < state->resolvers.size(); ++i) {
      resolving.push_back(state->resolvers[i].resolve.get_reply(resolve_request_for(*state, i, batch, version)));
    }
    Future<std::vector<ResolveReply>> resolved = when_all(std::move(resolving));
    outcomes = combine(co_await resolved, batch.size());
    std::vector<std::vector<TaggedMutation>> per_log = tag_batch(*state, batch, outcomes, version.version);
    std::vector<Future<Void>> pushing;
    for (size_t i = 0; i < state->tlogs.size(); ++i) {
      TLogCommitRequest push;
      push.generation = version.generation;
      push.prev_version = version.prev_version;
      push.version = version.version;
      push.known_committed_version = state->known_committed;
      push.mutations = std::move(per_log[i]);
      pushing.push_back(state->tlogs[i].commit.get_reply(push));
    }
    Future<std::vector<Void>> pushed = when_all(std::move(pushing));
    co_await pushed;
    state->known_committed = std::max(state->known_committed, version.version);
    ReportCommittedRequest report;
    report.generation = version.generation;
    report.version = version.version;
    Future<Void> reported = state->sequencer.report_committed.get_reply(report);
    co_await reported;
  } catch (const Error& error) {
    // The chain of this generation is broken: whatever was resolved as committed may or may not
    // be durable. Nothing else is.
    TraceEvent(Severity::warn_always, "ProxyCommitBatchFailed").detail("Version", version.version).error(error);
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i].reply.send_error(Error(outcomes[i] == ResolveOutcome::committed ? errc::commit_unknown_result
                                                                                : errc::not_committed));
    }
    throw;
  }
  reply_to_batch(batch, outcomes, version.version);
  co_return Void{};
}

Future<Void> serve_commits(ProxyState* state, FutureStream<CommitTransactionRequest> requests, ActorCollection* actors) {
  while (true) {
    std::vector<CommitTransactionRequest> batch;
    batch.push_back(co_await requests.next());
    size_t bytes = request_bytes(batch.back());
    while (requests.queued() > 0 && batch.size() < commit_batch_transactions_max && bytes < commit_batch_bytes_max) {
      batch.push_back(co_await requests.next());
      bytes += request_bytes(batch.back());
    }
    GetCommitVersionRequest request;
    Future<GetCommitVersionReply> versioned = state->sequencer.get_commit_version.get_reply(request);
    GetCommitVersionReply version = co_await versioned;
    actors->add(commit_batch(state, std::move(batch), version));
  }
}

Future<Void> serve_read_versions(ProxyState* state, FutureStream<GetReadVersionRequest> requests) {
  while (true) {
    std::vector<GetReadVersionRequest> batch;
    batch.push_back(co_await requests.next());
    while (requests.queued() > 0 && batch.size() < grv_batch_requests_max) batch.push_back(co_await requests.next());
    GetLiveCommittedVersionRequest request;
    Future<LiveCommittedVersionReply> live = state->sequencer.get_live_committed_version.get_reply(request);
    co_await ready(live);
    for (GetReadVersionRequest& waiting : batch) {
      if (live.is_error()) waiting.reply.send_error(live.error());
      else waiting.reply.send(GetReadVersionReply{live.get().version});
    }
  }
}

GetKeyServerLocationsReply locate(const ProxyState& state, const GetKeyServerLocationsRequest& request) {
  GetKeyServerLocationsReply reply;
  const auto& shards = state.shards;
  const int limit = std::max(1, request.limit);
  auto add = [&](const ShardAssignment& shard) {
    ShardLocation location;
    location.range = shard.range;
    for (Tag tag : shard.tags) location.servers.push_back(state.storage.at(tag));
    reply.shards.push_back(std::move(location));
  };
  if (!request.reverse) {
    for (size_t i = state.cluster.shard_index(request.range.begin); i < shards.size() && shards[i].range.begin < request.range.end; ++i) {
      add(shards[i]);
      if (static_cast<int>(reply.shards.size()) >= limit) break;
    }
    return reply;
  }
  // Reverse: from the shard holding the keys just below range.end, downwards.
  size_t i = request.range.end.empty() ? 0 : state.cluster.shard_index(request.range.end);
  if (i > 0 && shards[i].range.begin == request.range.end) --i;
  while (true) {
    if (shards[i].range.end > request.range.begin || i == 0) add(shards[i]);
    if (i == 0 || static_cast<int>(reply.shards.size()) >= limit || shards[i].range.begin <= request.range.begin) break;
    --i;
  }
  return reply;
}

Future<Void> serve_locations(ProxyState* state, FutureStream<GetKeyServerLocationsRequest> requests) {
  Future<Void> map_read = state->shard_map_ready.get_future();
  co_await map_read;
  while (true) {
    GetKeyServerLocationsRequest request = co_await requests.next();
    request.reply.send(locate(*state, request));
  }
}

Future<CommitReply> commit_through_self(ProxyState* state, std::vector<Mutation> mutations) {
  GetReadVersionRequest read;
  Future<GetReadVersionReply> read_version = state->self.get_read_version.get_reply(read);
  CommitTransactionRequest request;
  request.read_version = (co_await read_version).version;
  request.mutations = std::move(mutations);
  Future<CommitReply> committed = state->self.commit.get_reply(request);
  co_return co_await committed;
}

// The shard map as stored under \xff/keyServers/ at `version` (empty before the first start),
// read from the system shard's server, which the configuration places and nothing moves.
Future<std::vector<ShardAssignment>> read_stored_shard_map(ProxyState* state, Version version) {
  const ShardAssignment& system = state->cluster.shards[state->cluster.shard_index(key_servers_prefix)];
  GetKeyValuesRequest request;
  request.range = key_servers_range;
  request.version = version;
  request.limit = shard_map_rows_max;
  Future<GetKeyValuesReply> read = state->storage.at(system.tags.front()).get_key_values.get_reply(request);
  GetKeyValuesReply reply = co_await read;
  std::vector<ShardAssignment> shards;
  for (const KeyValue& row : reply.data) {
    ShardAssignment shard;
    shard.range.begin = row.key.substr(key_servers_prefix.size());
    shard.tags = deserialize_from_string<std::vector<Tag>>(row.value);
    if (!shards.empty()) shards.back().range.end = shard.range.begin;
    shards.push_back(std::move(shard));
  }
  if (!shards.empty()) shards.back().range.end = keyspace_end;
  co_return shards;
}

// Reads the shard map back from the system keyspace, writing it there first on the cluster's
// first start (proxy 0), and refuses to serve with a configuration that places data
// elsewhere than the stored map says it is (e.g. a restart with different --shards).
// Proxy 0's first commit also settles what the logs kept across a restart, so the storage
// servers can catch up to the versions it reads at.
Future<Void> load_shard_map(ProxyState* state, int index) {
  std::vector<ShardAssignment> stored;
  while (true) {
    Error failure;
    try {
      Version version = 0;
      if (index == 0) {
        std::vector<Mutation> started{Mutation{MutationType::set_value, last_start_key, serialize_to_string(state->cluster.generation)}};
        version = (co_await commit_through_self(state, std::move(started))).version;
      } else {
        GetReadVersionRequest read;
        Future<GetReadVersionReply> read_version = state->self.get_read_version.get_reply(read);
        version = (co_await read_version).version;
      }
      stored = co_await read_stored_shard_map(state, version);
      if (!stored.empty()) break;
      if (index == 0) {
        std::vector<Mutation> map;
        for (const ShardAssignment& shard : state->cluster.shards) {
          map.push_back(Mutation{MutationType::set_value, key_servers_key(shard.range.begin), serialize_to_string(shard.tags)});
        }
        const CommitReply written = co_await commit_through_self(state, std::move(map));
        TraceEvent("ProxyShardMapWritten").detail("Version", written.version).detail("Shards", state->cluster.shards.size());
        continue;  // read it back
      }
    } catch (const Error& error) {
      failure = error;
    }
    if (failure.code() != errc::success && !failure.is_retryable()) throw failure;  // success: not there yet
    TraceEvent(Severity::info, "ProxyWaitingForShardMap").error(failure).suppress_for(5);
    co_await delay(0.05);
  }
  std::vector<ShardAssignment> configured = state->cluster.shards;
  bool same = stored.size() == configured.size();
  for (size_t i = 0; same && i < stored.size(); ++i) {
    same = stored[i].range == configured[i].range && stored[i].tags == configured[i].tags;
  }
  if (!same) {
    TraceEvent(Severity::error, "ProxyShardMapMismatch")
        .detail("Stored", describe_shards(stored))
        .detail("Configured", describe_shards(configured));
    throw Error(errc::shard_map_mismatch);
  }
  state->shards = std::move(stored);
  state->shard_map_ready.send(Void{});
  TraceEvent("ProxyShardMapRead").detail("Shards", state->shards.size());
  co_return Void{};
}

}  // namespace

Key key_servers_key(const Key& shard_begin) { return "\xff/keyServers/" + shard_begin; }

Future<Void> run_proxy(ProxyInterface interface, ClusterConfig cluster, int index) {
  ProxyState state;
  state.cluster = std::move(cluster);
  state.self = interface;
  state.shards = state.cluster.shards;
  state.sequencer = sequencer_at(state.cluster.sequencer);
  for (const ResolverLocation& resolver : state.cluster.resolvers) {
    state.resolvers.push_back(resolver_at(resolver.location.address, resolver.location.index));
  }
  for (const RoleLocation& tlog : state.cluster.tlogs) state.tlogs.push_back(tlog_at(tlog.address, tlog.index));
  for (const StorageLocation& storage : state.cluster.storage) {
    state.storage[storage.tag] = storage_at(storage.location.address, storage.location.index, storage.tag);
  }
  TraceEvent("ProxyStarted").detail("Index", index);
  ActorCollection actors;
  actors.add(serve_commits(&state, interface.commit.requests(), &actors));
  actors.add(serve_read_versions(&state, interface.get_read_version.requests()));
  actors.add(serve_locations(&state, interface.get_key_server_locations.requests()));
  actors.add(load_shard_map(&state, index));
  co_await actors.result();
  co_return Void{};
}

}  // namespace keel

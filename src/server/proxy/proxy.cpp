#include "server/proxy/proxy.h"

#include <algorithm>
#include <map>

#include "protocol/atomic_ops.h"
#include "protocol/wait_failure.h"
#include "protocol/well_known.h"
#include "rpc/serialize.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "server/proxy/admission.h"
#include "server/proxy/proxy_knobs.h"

namespace keel {
namespace {

constexpr size_t commit_batch_transactions_max = 1000;
constexpr size_t grv_batch_requests_max = 10000;

struct ProxyState {
  ClusterConfig cluster;  // storage placement and the configured shard map
  ServerDBInfo info;      // the generation: its sequencer, resolvers (with their ranges) and logs
  ProxyInterface self;
  std::map<Tag, StorageServerInterface> storage;
  Version known_committed = 0;  // durable on every log of the generation
  // The shard map clients are told: the configuration's until the copy in the system keyspace
  // has been read back and checked (shard_map_ready).
  std::vector<ShardAssignment> shards;
  Promise<Void> shard_map_ready;
  // Admission control: transactions start (read versions, blind commits) at the ratekeeper's rate.
  uint64_t id = 0;  // how the ratekeeper tells proxies apart
  Admission admission{proxy_knobs().proxy_rate_burst_seconds};
  int64_t released = 0;  // transactions admitted since the ratekeeper was last told
};

// Admits `transactions` new transactions: ready when the ratekeeper's rate lets them start.
Future<Void> admit(ProxyState* state, int64_t transactions) {
  state->released += transactions;
  const double wait = state->admission.admit(transactions, now());
  if (wait > 0) co_await delay(wait);
  co_return Void{};
}

// Asks the ratekeeper for this proxy's rate every proxy_rate_update_seconds, reporting what it
// released. Without an answer for the lease, the proxy admits without a limit.
Future<Void> update_rate(ProxyState* state) {
  double heard = now();
  while (true) {
    const ProxyKnobs& knobs = proxy_knobs();
    GetRateInfoRequest request;
    request.proxy_id = state->id;
    request.released = state->released;
    Future<GetRateInfoReply> asked =
        timeout_error(state->info.ratekeeper.get_rate_info.get_reply(request), knobs.proxy_rate_lease_seconds);
    Future<Void> next = delay(knobs.proxy_rate_update_seconds);
    co_await ready(asked);
    if (!asked.is_error()) {
      state->released -= request.released;
      heard = now();
      const GetRateInfoReply& reply = asked.get();
      state->admission.set_rate(reply.transactions_per_second < 0
                                    ? -1
                                    : reply.transactions_per_second / std::max(1, reply.proxies));
    } else if (now() - heard > knobs.proxy_rate_lease_seconds && state->admission.rate() >= 0) {
      TraceEvent(Severity::warn, "ProxyRateLeaseExpired").detail("Generation", state->info.generation).error(asked.error());
      state->admission.set_rate(-1);
    }
    co_await next;
  }
}

const Key key_servers_prefix = "\xff/keyServers/";
const KeyRange key_servers_range{key_servers_prefix, "\xff/keyServers0"};
const Key last_start_key = "\xff/lastStart";
constexpr int shard_map_rows_max = 100000;
// A member of the system shard's team that has not answered the shard map read within this
// long is given up on, and the next one asked.
constexpr double shard_map_read_timeout_seconds = 2.0;

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
  const KeyRange& range = state.info.resolver_ranges[resolver];
  ResolveRequest request;
  request.generation = state.info.generation;
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

// Adds `mutation` to `tagged`, tagged with the servers owning its keys; clears are split at
// shard boundaries so each piece goes only where it belongs. Every log gets the whole list.
void tag_mutation(const ProxyState& state, const Mutation& mutation, std::vector<TaggedMutation>& tagged) {
  if (mutation.type != MutationType::clear_range) {
    tagged.push_back(TaggedMutation{state.cluster.shards[state.cluster.shard_index(mutation.param1)].tags, mutation});
    return;
  }
  const KeyRange cleared{mutation.param1, mutation.param2};
  for (size_t i = state.cluster.shard_index(cleared.begin); i < state.cluster.shards.size(); ++i) {
    const ShardAssignment& shard = state.cluster.shards[i];
    if (shard.range.begin >= cleared.end) break;
    const Mutation piece{MutationType::clear_range, std::max(cleared.begin, shard.range.begin),
                         std::min(cleared.end, shard.range.end)};
    tagged.push_back(TaggedMutation{shard.tags, piece});
  }
}

std::vector<TaggedMutation> tag_batch(const ProxyState& state, const std::vector<CommitTransactionRequest>& batch,
                                      const std::vector<ResolveOutcome>& outcomes, Version version) {
  std::vector<TaggedMutation> tagged;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (outcomes[i] != ResolveOutcome::committed) continue;
    for (const Mutation& mutation : batch[i].mutations) {
      if (is_versionstamped(mutation.type)) {
        tag_mutation(state, apply_versionstamp(mutation, version, static_cast<uint16_t>(i)), tagged);
      } else {
        tag_mutation(state, mutation, tagged);
      }
    }
  }
  return tagged;
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

// Answers what `batch` has not been answered yet once it cannot finish: a transaction resolved
// as committed may or may not be durable (commit_unknown_result); nothing else is.
void answer_unfinished(std::vector<CommitTransactionRequest>& batch, const std::vector<ResolveOutcome>& outcomes) {
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].reply.is_set()) continue;
    batch[i].reply.send_error(Error(outcomes[i] == ResolveOutcome::committed ? errc::commit_unknown_result
                                                                              : errc::not_committed));
  }
}

// Answers a batch whose commit_batch frame is destroyed before it answered: the proxy ended (a
// GRV batch found its generation over, another batch failed) while the batch was in flight,
// perhaps after its push landed. Dropped, its requests would hear broken_promise, which clients
// retry as if nothing had committed.
struct UnfinishedBatchGuard {
  UnfinishedBatchGuard(std::vector<CommitTransactionRequest>& batch, const std::vector<ResolveOutcome>& outcomes)
      : batch(batch), outcomes(outcomes) {}
  UnfinishedBatchGuard(const UnfinishedBatchGuard&) = delete;
  UnfinishedBatchGuard& operator=(const UnfinishedBatchGuard&) = delete;
  ~UnfinishedBatchGuard() { answer_unfinished(batch, outcomes); }
  std::vector<CommitTransactionRequest>& batch;
  const std::vector<ResolveOutcome>& outcomes;
};

// Ready when every one of `futures` succeeded; fails with the first error to arrive (whatever
// its position) without waiting for the others.
Future<Void> all_succeed(std::vector<Future<Void>> futures) {
  while (!futures.empty()) {
    Future<size_t> first = when_any(futures);
    const size_t index = co_await first;
    futures.erase(futures.begin() + static_cast<std::ptrdiff_t>(index));
  }
  co_return Void{};
}

template <class T>
Future<Void> succeeded(Future<T> future) {
  co_await future;
  co_return Void{};
}

// Pushes the batch's mutations to every log of the generation (each holds every tag).
Future<Void> push_to_logs(ProxyState* state, const GetCommitVersionReply& version, std::vector<TaggedMutation> tagged) {
  std::vector<Future<Void>> pushing;
  for (const TLogInterface& tlog : state->info.tlogs) {
    TLogCommitRequest push;
    push.generation = state->info.generation;
    push.prev_version = version.prev_version;
    push.version = version.version;
    push.known_committed_version = state->known_committed;
    push.mutations = tagged;
    pushing.push_back(tlog.commit.get_reply(std::move(push)));
  }
  return all_succeed(std::move(pushing));
}

Future<Void> commit_batch(ProxyState* state, std::vector<CommitTransactionRequest> batch, GetCommitVersionReply version) {
  std::vector<ResolveOutcome> outcomes(batch.size(), ResolveOutcome::conflict);
  const UnfinishedBatchGuard guard(batch, outcomes);
  try {
    std::vector<Future<ResolveReply>> resolving;
    for (size_t i = 0; i < state->info.resolvers.size(); ++i) {
      resolving.push_back(state->info.resolvers[i].resolve.get_reply(resolve_request_for(*state, i, batch, version)));
    }
    Future<std::vector<ResolveReply>> resolved = when_all(std::move(resolving));
    outcomes = combine(co_await resolved, batch.size());
    Future<Void> pushed = push_to_logs(state, version, tag_batch(*state, batch, outcomes, version.version));
    co_await pushed;
    state->known_committed = std::max(state->known_committed, version.version);
    ReportCommittedRequest report;
    report.generation = state->info.generation;
    report.version = version.version;
    Future<Void> reported = state->info.sequencer.report_committed.get_reply(report);
    co_await reported;
  } catch (const Error& error) {
    // The chain of this generation is broken (a log locked by a recovery answers tlog_stopped):
    // whatever was resolved as committed may or may not be durable. Nothing else is.
    TraceEvent(Severity::warn_always, "ProxyCommitBatchFailed").detail("Version", version.version).error(error);
    answer_unfinished(batch, outcomes);
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
    const auto bytes_max = static_cast<size_t>(proxy_knobs().proxy_commit_batch_bytes_max);
    while (requests.queued() > 0 && batch.size() < commit_batch_transactions_max && bytes < bytes_max) {
      batch.push_back(co_await requests.next());
      bytes += request_bytes(batch.back());
    }
    // Blind transactions (no read version) start here, not at a read version: admit them.
    const auto blind = std::count_if(batch.begin(), batch.end(),
                                     [](const CommitTransactionRequest& transaction) { return transaction.read_version == 0; });
    if (blind > 0) co_await admit(state, blind);
    GetCommitVersionRequest request;
    request.generation = state->info.generation;
    Future<GetCommitVersionReply> versioned = state->info.sequencer.get_commit_version.get_reply(request);
    GetCommitVersionReply version = co_await versioned;
    KEEL_ASSERT(version.generation == state->info.generation);
    actors->add(commit_batch(state, std::move(batch), version));
  }
}

// The live committed version, once every log of the generation confirmed it still accepts
// pushes: a recovery locks at least one of them before a newer generation commits anything, so
// the version cannot miss a newer commit. Fails with the first error (tlog_stopped once locked).
Future<Version> confirmed_live_committed_version(ProxyState* state) {
  GetLiveCommittedVersionRequest request;
  request.generation = state->info.generation;
  Future<LiveCommittedVersionReply> live = state->info.sequencer.get_live_committed_version.get_reply(request);
  std::vector<Future<Void>> checks;
  checks.push_back(succeeded(live));
  for (const TLogInterface& tlog : state->info.tlogs) {
    TLogConfirmRunningRequest confirm;
    confirm.generation = state->info.generation;
    checks.push_back(tlog.confirm_running.get_reply(confirm));
  }
  Future<Void> confirmed = all_succeed(std::move(checks));
  co_await confirmed;
  co_return live.get().version;
}

// Answers read-version requests in batches. A batch whose generation cannot be confirmed gets
// the error, and the proxy ends with it: its generation is over (or its sequencer is gone).
Future<Void> serve_read_versions(ProxyState* state, FutureStream<GetReadVersionRequest> requests) {
  while (true) {
    std::vector<GetReadVersionRequest> batch;
    batch.push_back(co_await requests.next());
    while (requests.queued() > 0 && batch.size() < grv_batch_requests_max) batch.push_back(co_await requests.next());
    co_await admit(state, static_cast<int64_t>(batch.size()));
    Future<Version> live = confirmed_live_committed_version(state);
    co_await ready(live);
    if (live.is_error()) {
      for (GetReadVersionRequest& waiting : batch) waiting.reply.send_error(live.error());
      TraceEvent(Severity::warn_always, "ProxyGenerationNotConfirmed")
          .detail("Generation", state->info.generation)
          .error(live.error());
      throw live.error();
    }
    for (GetReadVersionRequest& waiting : batch) waiting.reply.send(GetReadVersionReply{live.get()});
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
// read from a server of the system shard's team, which the configuration places and nothing
// moves: member `attempt` mod k, so that a retry after a failure asks the next member (every
// member holds the same data at the version; one may be dead, cut off or behind).
Future<std::vector<ShardAssignment>> read_stored_shard_map(ProxyState* state, Version version, size_t attempt) {
  const ShardAssignment& system = state->cluster.shards[state->cluster.shard_index(key_servers_prefix)];
  GetKeyValuesRequest request;
  request.range = key_servers_range;
  request.version = version;
  request.limit = shard_map_rows_max;
  const Tag member = system.tags[attempt % system.tags.size()];
  Future<GetKeyValuesReply> read =
      timeout_error(state->storage.at(member).get_key_values.get_reply(request), shard_map_read_timeout_seconds);
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

// Commits the generation's first transaction (proxy 0: \xff/lastStart = the generation) and
// reads the shard map back from the system keyspace at its version, writing it there first on
// the cluster's first start; other proxies read it at a read version. Refuses to serve with a
// configuration that places data elsewhere than the stored map says it is (e.g. a restart
// with different --shards).
Future<Void> load_shard_map(ProxyState* state, int index) {
  std::vector<ShardAssignment> stored;
  size_t attempt = 0;
  while (true) {
    Error failure;
    try {
      Version version = 0;
      if (index == 0) {
        std::vector<Mutation> started{Mutation{MutationType::set_value, last_start_key, serialize_to_string(state->info.generation)}};
        version = (co_await commit_through_self(state, std::move(started))).version;
      } else {
        GetReadVersionRequest read;
        Future<GetReadVersionReply> read_version = state->self.get_read_version.get_reply(read);
        version = (co_await read_version).version;
      }
      stored = co_await read_stored_shard_map(state, version, attempt);
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
    if (failure.code() != errc::success) ++attempt;
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

Future<Void> run_proxy(ProxyInterface interface, ClusterConfig cluster, int index, ServerDBInfo info) {
  KEEL_ASSERT(!info.resolvers.empty() && info.resolvers.size() == info.resolver_ranges.size());
  KEEL_ASSERT(!info.tlogs.empty());
  ProxyState state;
  state.cluster = std::move(cluster);
  state.info = std::move(info);
  state.self = interface;
  state.shards = state.cluster.shards;
  while (state.id == 0) state.id = deterministic_random().next_u64();
  // Every version up to the recovery version is on every log of the generation (seeded).
  state.known_committed = state.info.recovery_version;
  for (const StorageLocation& storage : state.cluster.storage) {
    state.storage[storage.tag] = storage_at(storage.location.address, storage.location.index, storage.tag);
  }
  TraceEvent("ProxyStarted")
      .detail("Index", index)
      .detail("Generation", state.info.generation)
      .detail("Logs", state.info.tlogs.size())
      .detail("Resolvers", state.info.resolvers.size());
  ActorCollection actors;
  actors.add(serve_commits(&state, interface.commit.requests(), &actors));
  actors.add(serve_read_versions(&state, interface.get_read_version.requests()));
  actors.add(serve_locations(&state, interface.get_key_server_locations.requests()));
  actors.add(serve_wait_failure(interface.wait_failure.requests()));
  actors.add(load_shard_map(&state, index));
  actors.add(update_rate(&state));
  Future<Void> ended = actors.result();
  co_await ready(ended);
  if (ended.is_error()) {
    TraceEvent(Severity::warn, "ProxyEnded").detail("Generation", state.info.generation).error(ended.error());
    throw ended.error();
  }
  co_return Void{};
}

}  // namespace keel

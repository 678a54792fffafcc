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
  ClusterConfig cluster;  // storage placement
  // The generation: its sequencer, resolvers (with their ranges), logs and shard map.
  ServerDBInfo info;
  // Per shard of info.shards: the servers its mutations go to (its team, and while it moves
  // the team it moves to).
  std::vector<std::vector<Tag>> receivers;
  ProxyInterface self;
  std::map<Tag, StorageServerInterface> storage;
  Version known_committed = 0;  // durable on every log of the generation
  // Admission control: transactions start (read versions, blind commits) at the ratekeeper's rate.
  uint64_t id = 0;  // how the ratekeeper tells proxies apart
  Admission admission{proxy_knobs().proxy_rate_burst_seconds};
  int64_t released = 0;  // transactions admitted since the ratekeeper was last told
  uint64_t batches = 0;  // commit batches started
};

// Admits `transactions` new transactions: ready when the ratekeeper's rate lets them start.
// Waits in steps of at most one rate update: a rate that rises meanwhile shortens the wait.
Future<Void> admit(ProxyState* state, int64_t transactions) {
  state->released += transactions;
  const double place = state->admission.admit(transactions, now());
  while (true) {
    const double wait = state->admission.wait_seconds(place, now());
    if (wait <= 0) break;
    co_await delay(std::min(wait, proxy_knobs().proxy_rate_update_seconds));
  }
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
      state->admission.set_rate(
          reply.transactions_per_second < 0 ? -1 : reply.transactions_per_second / std::max(1, reply.proxies), now());
    } else if (now() - heard > knobs.proxy_rate_lease_seconds && state->admission.rate() >= 0) {
      TraceEvent(Severity::warn, "ProxyRateLeaseExpired").detail("Generation", state->info.generation).error(asked.error());
      state->admission.set_rate(-1, now());
    }
    co_await next;
  }
}

const Key last_start_key = "\xff/lastStart";

size_t request_bytes(const CommitTransactionRequest& request) {
  size_t bytes = 0;
  for (const Mutation& mutation : request.mutations) bytes += mutation.expected_size();
  return bytes;
}

// One end of a clipped range: the limit's end when it cuts the range, else the range's own
// end, moved out with `take`.
Key clipped_end(Key& own, const Key& limit, bool cut, bool take) {
  if (cut) return limit;
  if (take) return std::move(own);
  return own;
}

// The part of each range within `limit`. With `take`, keys that stay whole are moved out of
// `ranges` instead of copied (for the last resolver, after which the ranges are not needed).
std::vector<KeyRange> clip(std::vector<KeyRange>& ranges, const KeyRange& limit, bool take) {
  // Taken, and each range whole within the limit (always so with one resolver): the ranges
  // themselves.
  auto within = [&](const KeyRange& range) {
    return !range.empty() && !(range.begin < limit.begin) && !(limit.end < range.end);
  };
  if (take && std::all_of(ranges.begin(), ranges.end(), within)) return std::move(ranges);
  std::vector<KeyRange> clipped;
  clipped.reserve(ranges.size());
  for (KeyRange& range : ranges) {
    const bool overlaps = range.begin < limit.end && limit.begin < range.end && !range.empty() && !limit.empty();
    if (!overlaps) continue;
    KeyRange part;
    part.begin = clipped_end(range.begin, limit.begin, range.begin < limit.begin, take);
    part.end = clipped_end(range.end, limit.end, limit.end < range.end, take);
    clipped.push_back(std::move(part));
  }
  return clipped;
}

// The batch's conflict ranges within the resolver's key range. The last resolver's request
// takes them: nothing reads them after resolution.
ResolveRequest resolve_request_for(const ProxyState& state, size_t resolver, std::vector<CommitTransactionRequest>& batch,
                                   const GetCommitVersionReply& version) {
  const KeyRange& range = state.info.resolver_ranges[resolver];
  const bool take = resolver + 1 == state.info.resolvers.size();
  ResolveRequest request;
  request.generation = state.info.generation;
  request.prev_version = version.prev_version;
  request.version = version.version;
  request.transactions.reserve(batch.size());
  for (CommitTransactionRequest& transaction : batch) {
    ResolveTransaction resolve;
    resolve.read_version = transaction.read_version;
    resolve.reads = clip(transaction.read_conflict_ranges, range, take);
    resolve.writes = clip(transaction.write_conflict_ranges, range, take);
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
void tag_mutation(const ProxyState& state, Mutation mutation, std::vector<TaggedMutation>& tagged) {
  const std::vector<ShardAssignment>& shards = state.info.shards;
  if (mutation.type != MutationType::clear_range) {
    const size_t shard = shard_index(shards, mutation.param1);
    tagged.push_back(TaggedMutation{state.receivers[shard], std::move(mutation)});
    return;
  }
  const KeyRange cleared{mutation.param1, mutation.param2};
  for (size_t i = shard_index(shards, cleared.begin); i < shards.size(); ++i) {
    const ShardAssignment& shard = shards[i];
    if (shard.range.begin >= cleared.end) break;
    const Mutation piece{MutationType::clear_range, std::max(cleared.begin, shard.range.begin),
                         std::min(cleared.end, shard.range.end)};
    tagged.push_back(TaggedMutation{state.receivers[i], piece});
  }
}

// Takes the committed transactions' mutations out of `batch`: only the replies are left to send.
std::vector<TaggedMutation> tag_batch(const ProxyState& state, std::vector<CommitTransactionRequest>& batch,
                                      const std::vector<ResolveOutcome>& outcomes, Version version) {
  std::vector<TaggedMutation> tagged;
  size_t mutations = 0;  // a clear across shards may add pieces: the list then grows once more
  for (size_t i = 0; i < batch.size(); ++i) {
    if (outcomes[i] == ResolveOutcome::committed) mutations += batch[i].mutations.size();
  }
  tagged.reserve(mutations);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (outcomes[i] != ResolveOutcome::committed) continue;
    for (Mutation& mutation : batch[i].mutations) {
      if (is_versionstamped(mutation.type)) {
        tag_mutation(state, apply_versionstamp(mutation, version, static_cast<uint16_t>(i)), tagged);
      } else {
        tag_mutation(state, std::move(mutation), tagged);
      }
    }
  }
  return tagged;
}

// The replies leave at once, not at the end of the loop's pass: what else the pass runs (the
// storage servers applying the batch, in one process) would delay every client of the batch.
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
  world().send_held_writes();
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

Future<Void> all_succeed_of_several(std::vector<Future<Void>> futures) {
  while (!futures.empty()) {
    Future<size_t> first = when_any(futures);
    const size_t index = co_await first;
    futures.erase(futures.begin() + static_cast<std::ptrdiff_t>(index));
  }
  co_return Void{};
}

// Ready when every one of `futures` succeeded; fails with the first error to arrive (whatever
// its position) without waiting for the others. One future is its own answer: a coroutine
// between it and the caller would only cost the commit path a turn of the scheduler.
Future<Void> all_succeed(std::vector<Future<Void>> futures) {
  if (futures.size() == 1) return std::move(futures.front());
  return all_succeed_of_several(std::move(futures));
}

template <class T>
Future<Void> succeeded(Future<T> future) {
  co_await future;
  co_return Void{};
}

// Pushes the batch's mutations to every log of the generation (each holds every tag).
Future<Void> push_to_logs(ProxyState* state, const GetCommitVersionReply& version, std::vector<TaggedMutation> tagged) {
  std::vector<Future<Void>> pushing;
  const std::vector<TLogInterface>& tlogs = state->info.tlogs;
  for (size_t i = 0; i < tlogs.size(); ++i) {
    TLogCommitRequest push;
    push.generation = state->info.generation;
    push.prev_version = version.prev_version;
    push.version = version.version;
    push.known_committed_version = state->known_committed;
    if (i + 1 < tlogs.size()) push.mutations = tagged;
    else push.mutations = std::move(tagged);  // the last log takes them
    pushing.push_back(tlogs[i].commit.get_reply(std::move(push)));
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
    std::vector<ResolveReply> replies;
    if (resolving.size() == 1) {  // awaited directly: when_all would add a turn of the scheduler
      ResolveReply reply = co_await resolving.front();
      replies.push_back(std::move(reply));
    } else {
      Future<std::vector<ResolveReply>> resolved = when_all(std::move(resolving));
      replies = co_await std::move(resolved);
    }
    outcomes = combine(replies, batch.size());
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
    ++state->batches;
    GetCommitVersionRequest request;
    request.generation = state->info.generation;
    Future<GetCommitVersionReply> versioned = state->info.sequencer.get_commit_version.get_reply(request);
    GetCommitVersionReply version = co_await std::move(versioned);
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

// Answers read_version_unavailable to the requests of `batch` that would wait for admission
// longer than they may (GetReadVersionRequest::admission_wait_max_seconds), and drops them.
void refuse_impatient(ProxyState* state, std::vector<GetReadVersionRequest>& batch) {
  const double queued = state->admission.queued_seconds(now());
  if (queued <= 0) return;
  auto impatient = [queued](const GetReadVersionRequest& request) {
    return request.admission_wait_max_seconds >= 0 && queued > request.admission_wait_max_seconds;
  };
  for (GetReadVersionRequest& request : batch) {
    if (impatient(request)) request.reply.send_error(Error(errc::read_version_unavailable));
  }
  std::erase_if(batch, impatient);
}

// Answers read-version requests in batches. A batch whose generation cannot be confirmed gets
// the error, and the proxy ends with it: its generation is over (or its sequencer is gone).
Future<Void> serve_read_versions(ProxyState* state, FutureStream<GetReadVersionRequest> requests) {
  while (true) {
    std::vector<GetReadVersionRequest> batch;
    batch.push_back(co_await requests.next());
    while (requests.queued() > 0 && batch.size() < grv_batch_requests_max) batch.push_back(co_await requests.next());
    refuse_impatient(state, batch);
    if (batch.empty()) continue;
    int64_t transactions = 0;
    for (const GetReadVersionRequest& request : batch) transactions += std::max<uint32_t>(request.transactions, 1);
    co_await admit(state, transactions);
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
  const auto& shards = state.info.shards;
  const int limit = std::max(1, request.limit);
  auto add = [&](const ShardAssignment& shard) {
    ShardLocation location;
    location.range = shard.range;
    for (Tag tag : shard.tags) location.servers.push_back(state.storage.at(tag));
    reply.shards.push_back(std::move(location));
  };
  if (!request.reverse) {
    for (size_t i = shard_index(shards, request.range.begin); i < shards.size() && shards[i].range.begin < request.range.end; ++i) {
      add(shards[i]);
      if (static_cast<int>(reply.shards.size()) >= limit) break;
    }
    return reply;
  }
  // Reverse: from the shard holding the keys just below range.end, downwards.
  size_t i = request.range.end.empty() ? 0 : shard_index(shards, request.range.end);
  if (i > 0 && shards[i].range.begin == request.range.end) --i;
  while (true) {
    if (shards[i].range.end > request.range.begin || i == 0) add(shards[i]);
    if (i == 0 || static_cast<int>(reply.shards.size()) >= limit || shards[i].range.begin <= request.range.begin) break;
    --i;
  }
  return reply;
}

Future<Void> serve_locations(ProxyState* state, FutureStream<GetKeyServerLocationsRequest> requests) {
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

// Commits an empty transaction whenever no batch started for proxy_idle_commit_seconds (the
// knob's header says why). It reads nothing, so it cannot conflict or be too old.
Future<Void> commit_when_idle(ProxyState* state) {
  uint64_t seen = state->batches;
  while (true) {
    co_await delay(proxy_knobs().proxy_idle_commit_seconds);
    if (state->batches != seen) {
      seen = state->batches;
      continue;
    }
    CommitTransactionRequest request;
    request.read_version = state->known_committed;
    Future<CommitReply> committed = state->self.commit.get_reply(request);
    co_await ready(committed);
    seen = state->batches;
  }
}

// Commits the generation's first transaction (\xff/lastStart = the generation), retrying
// until it commits or the proxy ends.
Future<Void> start_generation(ProxyState* state) {
  while (true) {
    Error failure;
    try {
      std::vector<Mutation> started{Mutation{MutationType::set_value, last_start_key, serialize_to_string(state->info.generation)}};
      const CommitReply committed = co_await commit_through_self(state, std::move(started));
      TraceEvent("ProxyGenerationStarted").detail("Generation", state->info.generation).detail("Version", committed.version);
      co_return Void{};
    } catch (const Error& error) {
      failure = error;
    }
    if (!failure.is_retryable()) throw failure;
    TraceEvent(Severity::info, "ProxyGenerationStartRetrying").error(failure).suppress_for(5);
    co_await delay(0.05);
  }
}

}  // namespace

Future<Void> run_proxy(ProxyInterface interface, ClusterConfig cluster, int index, ServerDBInfo info) {
  KEEL_ASSERT(!info.resolvers.empty() && info.resolvers.size() == info.resolver_ranges.size());
  KEEL_ASSERT(!info.tlogs.empty() && !info.shards.empty());
  ProxyState state;
  state.cluster = std::move(cluster);
  state.info = std::move(info);
  state.self = interface;
  for (const ShardAssignment& shard : state.info.shards) state.receivers.push_back(shard.receivers());
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
  if (index == 0) {
    actors.add(start_generation(&state));
    actors.add(commit_when_idle(&state));
  }
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

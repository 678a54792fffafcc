// One recovery: from the core state to a new generation accepting commits
// (docs/fault_tolerance.md, "Recovery as built").
#include <algorithm>
#include <optional>

#include "protocol/well_known.h"
#include "rpc/serialize.h"
#include "rpc/transport.h"
#include "runtime/combinators.h"
#include "runtime/random.h"
#include "runtime/trace.h"
#include "server/cluster_controller/controller_state.h"

namespace keel {
namespace {

// Once one old log answered the lock, the others get this long to answer too (each answer
// can only raise the recovery version's floor of data kept: fewer versions to roll back).
constexpr double lock_grace_seconds = 0.05;
constexpr double lock_attempt_seconds = 1.0;
// A recovery waits this long (from the first transaction worker it knows) for as many
// transaction workers as the generation has logs, then places several logs on one worker if
// it must.
constexpr double recruit_wait_seconds = 1.0;

struct LockedLogs {
  Version recovery_version = 0;  // every acknowledged commit is at or below it
  Version highest_version = 0;   // no old log holds a version above it
  std::optional<TLogInterface> source;
};

Future<TLogLockReply> lock_until_answered(TLogInterface log) {
  while (true) {
    TLogLockRequest request;
    Future<TLogLockReply> reply = timeout_error(log.lock.get_reply(request), lock_attempt_seconds);
    co_await ready(reply);
    if (!reply.is_error()) co_return reply.get();
    TraceEvent(Severity::info, "RecoveryWaitingForOldLog")
        .detail("Address", log.lock.endpoint().address.to_string())
        .error(reply.error())
        .suppress_for(1);
    co_await delay(0.1);
  }
}

// Locks the previous generation's logs: waits for one, then briefly for the rest.
Future<LockedLogs> lock_old_logs(const CoreState& core) {
  LockedLogs locked;
  if (core.tlogs.empty()) co_return locked;
  std::vector<TLogInterface> logs;
  std::vector<Future<TLogLockReply>> replies;
  std::vector<Future<Void>> answered;
  for (const TLogRef& ref : core.tlogs) {
    logs.push_back(tlog_at(ref.address, ref.id));
    replies.push_back(lock_until_answered(logs.back()));
    answered.push_back(ready(replies.back()));
  }
  co_await when_any(answered);
  Future<std::vector<Void>> all = when_all(answered);
  co_await timeout(all, lock_grace_seconds);
  bool first = true;
  for (size_t i = 0; i < logs.size(); ++i) {
    if (!replies[i].is_ready() || replies[i].is_error()) continue;
    const Version last = replies[i].get().end - 1;
    locked.recovery_version = first ? last : std::min(locked.recovery_version, last);
    locked.highest_version = std::max(locked.highest_version, last);
    if (first) locked.source = logs[i];
    first = false;
  }
  co_return locked;
}

// Up to `wanted` distinct transaction workers in random order (fewer if the wait runs out).
// The wait counts from the first worker known: a newly elected controller knows none, and the
// workers reach it one by one as each gives up on the old controller. Taking the first alone
// would put every log of the generation on one process, whose death would then stop recovery
// until it came back (no old log left to lock).
Future<std::vector<WorkerInterface>> choose_workers(ControllerState* state, size_t wanted) {
  std::optional<double> deadline;
  while (true) {
    std::vector<WorkerInterface> workers = state->transaction_workers();
    if (!workers.empty() && !deadline) deadline = now() + recruit_wait_seconds;
    // Never none: workers seen once may all have failed since the deadline was set.
    if (!workers.empty() && (workers.size() >= wanted || (deadline && now() >= *deadline))) {
      for (size_t i = workers.size(); i > 1; --i) {
        std::swap(workers[i - 1], workers[static_cast<size_t>(deterministic_random().random_int(0, static_cast<int64_t>(i)))]);
      }
      // The controller's own process goes last: a process that dies then takes down either the
      // controller or transaction roles, so most failures need no new election first.
      const NetworkAddress self = Transport::current().local_address();
      std::stable_partition(workers.begin(), workers.end(), [&](const WorkerInterface& worker) { return worker.address != self; });
      co_return workers;
    }
    TraceEvent(Severity::info, "RecoveryWaitingForWorkers").detail("Have", workers.size()).detail("Want", wanted).suppress_for(1);
    Future<Void> registered = state->registrations.when_at_least(state->registrations.get() + 1);
    co_await timeout(registered, 0.1);
  }
}

// Sends a recruitment request; fails with recovery_failed if the worker fails first.
template <class Request, class Reply = typename RequestStream<Request>::Reply>
Future<Reply> recruit(WorkerInterface worker, RequestStream<Request> stream, Request request) {
  Future<Reply> reply = stream.get_reply(std::move(request));
  Future<Void> failed = wait_for_failure(worker.wait_failure);
  std::variant<Reply, Void> first = co_await race(std::move(reply), std::move(failed));
  if (first.index() == 1) {
    TraceEvent(Severity::warn_always, "RecoveryRecruitFailed").detail("Worker", worker.address.to_string());
    throw Error(errc::recovery_failed);
  }
  co_return std::get<0>(std::move(first));
}

const WorkerInterface& pick(const std::vector<WorkerInterface>& workers, size_t index) {
  return workers[index % workers.size()];
}

// The shard map of the new generation: the core state's, or on the first recovery the
// configuration file's. Every tag must name a storage server of the configuration.
std::vector<ShardAssignment> shard_map(const ControllerState& state, const CoreState& core) {
  if (core.shards.empty()) return state.cluster.shards;
  for (const ShardAssignment& shard : core.shards) {
    for (const std::vector<Tag>* team : {&shard.tags, &shard.dest}) {
      for (Tag tag : *team) {
        const bool known = std::any_of(state.cluster.storage.begin(), state.cluster.storage.end(),
                                       [tag](const StorageLocation& location) { return location.tag == tag; });
        if (known) continue;
        TraceEvent(Severity::error, "RecoveryShardMapMismatch")
            .detail("Tag", tag)
            .detail("Stored", describe_shards(core.shards));
        throw Error(errc::shard_map_mismatch);
      }
    }
  }
  bool same_ranges = core.shards.size() == state.cluster.shards.size();
  for (size_t i = 0; same_ranges && i < core.shards.size(); ++i) {
    same_ranges = core.shards[i].range == state.cluster.shards[i].range;
  }
  if (!same_ranges) {
    TraceEvent(Severity::warn_always, "RecoveryKeepsStoredShardMap")
        .detail("Stored", core.shards.size())
        .detail("Configured", state.cluster.shards.size())
        .suppress_for(60);
  }
  return core.shards;
}

void publish(ControllerState* state, ServerDBInfo info) {
  LeaderDescription description;
  description.controller = state->self;
  description.client.generation = info.generation;
  description.client.proxies = info.proxies;
  state->candidate->set_description(serialize_to_string(description));
  state->db_info.set(std::move(info));
}

}  // namespace

Future<Void> recover(ControllerState* state, CoordinatedState* core_state) {
  const double started = now();
  state->recovery_state = RecoveryState::reading_core_state;
  const std::string stored = co_await core_state->read();
  const CoreState old_core = stored.empty() ? CoreState{} : deserialize_from_string<CoreState>(stored);
  if (!old_core.moving_to.empty()) {
    Future<Void> finished = finish_coordinators_move(state, core_state->coordinators(), old_core);
    co_await finished;
  }
  state->settings = old_core.settings;
  const ClusterSettings& settings = old_core.settings;
  const uint64_t generation = old_core.generation + 1;
  TraceEvent("RecoveryStarted").detail("Generation", generation).detail("OldLogs", old_core.tlogs.size());

  state->recovery_state = RecoveryState::locking_old_logs;
  const LockedLogs locked = co_await lock_old_logs(old_core);
  const Version recovery_version = locked.recovery_version;
  TraceEvent("RecoveryLockedOldLogs")
      .detail("Generation", generation)
      .detail("RecoveryVersion", recovery_version)
      .detail("HighestVersion", locked.highest_version);

  state->recovery_state = RecoveryState::recruiting;
  const size_t log_count = static_cast<size_t>(settings.tlogs > 0 ? settings.tlogs : state->cluster.tlogs);
  const int32_t proxy_count = settings.proxies > 0 ? settings.proxies : state->cluster.proxies;
  const std::vector<WorkerInterface> workers = co_await choose_workers(state, log_count);
  // Logs go to distinct processes first; the other roles away from the controller's process.
  std::vector<WorkerInterface> stateless;
  for (const WorkerInterface& worker : workers) {
    if (worker.address != Transport::current().local_address()) stateless.push_back(worker);
  }
  if (stateless.empty()) stateless = workers;
  ServerDBInfo info;
  info.generation = generation;
  info.recovery_version = recovery_version;
  info.resolver_ranges = settings.resolvers > 0 ? split_by_first_byte(settings.resolvers, keyspace_end)
                                                : state->cluster.resolver_ranges;
  CoreState new_core;
  new_core.generation = generation;
  new_core.settings = settings;
  new_core.shards = shard_map(*state, old_core);
  info.shards = new_core.shards;
  {
    std::vector<Future<TLogInterface>> logs;
    for (size_t i = 0; i < log_count; ++i) {
      const WorkerInterface& worker = pick(workers, i);
      InitializeTLogRequest request;
      request.id = new_tlog_id(deterministic_random());
      request.generation = generation;
      request.recovery_version = recovery_version;
      request.source = locked.source;
      new_core.tlogs.push_back(TLogRef{worker.address, request.id});
      logs.push_back(recruit(worker, worker.initialize_tlog, std::move(request)));
    }
    Future<std::vector<TLogInterface>> all_logs = when_all(std::move(logs));
    info.tlogs = co_await all_logs;
  }
  {
    const WorkerInterface& worker = pick(stateless, 0);
    InitializeSequencerRequest request;
    request.generation = generation;
    request.recovery_version = recovery_version;
    request.start_version = std::max(locked.highest_version, recovery_version) + recovery_version_jump;
    Future<SequencerInterface> sequencer = recruit(worker, worker.initialize_sequencer, std::move(request));
    info.sequencer = co_await sequencer;
  }
  {
    const WorkerInterface& keeper_host = pick(stateless, 0);
    InitializeRatekeeperRequest keeper_request;
    keeper_request.generation = generation;
    keeper_request.sequencer = info.sequencer;
    Future<RatekeeperInterface> ratekeeper =
        recruit(keeper_host, keeper_host.initialize_ratekeeper, std::move(keeper_request));
    std::vector<Future<ResolverInterface>> resolvers;
    for (size_t i = 0; i < info.resolver_ranges.size(); ++i) {
      const WorkerInterface& worker = pick(stateless, 1 + i);
      InitializeResolverRequest request;
      request.generation = generation;
      request.recovery_version = recovery_version;
      request.range = info.resolver_ranges[i];
      resolvers.push_back(recruit(worker, worker.initialize_resolver, std::move(request)));
    }
    Future<std::vector<ResolverInterface>> all_resolvers = when_all(std::move(resolvers));
    info.resolvers = co_await all_resolvers;
    info.ratekeeper = co_await ratekeeper;
  }

  // From here the new logs hold everything the old ones must keep: the core state may forget
  // the old ones. A newer controller that read the core state in the meantime fences this write.
  state->recovery_state = RecoveryState::writing_core_state;
  Future<Void> written = core_state->write(serialize_to_string(new_core));
  co_await written;
  TraceEvent("RecoveryCoreStateWritten").detail("Generation", generation).detail("Logs", new_core.tlogs.size());

  info.recovery_state = RecoveryState::accepting_commits;
  {
    std::vector<Future<ProxyInterface>> proxies;
    for (int32_t i = 0; i < proxy_count; ++i) {
      const WorkerInterface& worker = pick(stateless, static_cast<size_t>(i));
      InitializeProxyRequest request;
      request.index = i;
      request.info = info;
      proxies.push_back(recruit(worker, worker.initialize_proxy, std::move(request)));
    }
    Future<std::vector<ProxyInterface>> all_proxies = when_all(std::move(proxies));
    info.proxies = co_await all_proxies;
  }
  while (info.id == 0) info.id = deterministic_random().next_u64();
  info.recovery_seconds = now() - started;
  state->recovery_state = RecoveryState::accepting_commits;
  TraceEvent("RecoveryComplete")
      .detail("Generation", generation)
      .detail("RecoveryVersion", recovery_version)
      .detail("Seconds", info.recovery_seconds)
      .detail("Workers", workers.size());
  publish(state, std::move(info));
  co_return Void{};
}

Future<Void> generation_failed(const ServerDBInfo& info) {
  std::vector<Future<Void>> failures;
  failures.push_back(wait_for_failure(info.sequencer.wait_failure));
  for (const ProxyInterface& proxy : info.proxies) failures.push_back(wait_for_failure(proxy.wait_failure));
  for (const ResolverInterface& resolver : info.resolvers) failures.push_back(wait_for_failure(resolver.wait_failure));
  for (const TLogInterface& log : info.tlogs) failures.push_back(wait_for_failure(log.wait_failure));
  failures.push_back(wait_for_failure(info.ratekeeper.wait_failure));
  co_await when_any(std::move(failures));
  co_return Void{};
}

}  // namespace keel

#include "server/worker/worker.h"

#include <algorithm>

#include <fmt/format.h>

#include "protocol/well_known.h"
#include "rpc/transport.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "server/proxy/proxy.h"
#include "server/resolver/resolver.h"
#include "server/sequencer/sequencer.h"
#include "server/storage_server/storage_server.h"
#include "server/tlog/tlog.h"

namespace keel {
namespace {

// Asks a log for its durable end until it answers.
Future<Version> durable_end_of(TLogInterface tlog) {
  while (true) {
    try {
      TLogEndRequest request;
      Future<TLogEndReply> reply = tlog.durable_end.get_reply(request);
      co_return (co_await reply).end;
    } catch (const Error& error) {
      TraceEvent(Severity::info, "WorkerWaitingForLog").error(error).suppress_for(5);
    }
    co_await delay(0.1);
  }
}

Future<Void> serve_description(RequestStream<GetClusterDescriptionRequest> stream, ClusterDescription description) {
  FutureStream<GetClusterDescriptionRequest> requests = stream.requests();
  while (true) {
    GetClusterDescriptionRequest request = co_await requests.next();
    request.reply.send(description);
  }
}

constexpr double status_timeout_seconds = 2.0;

std::vector<RoleStatus> roles_of(const ClusterConfig& cluster) {
  std::vector<RoleStatus> roles;
  roles.push_back(RoleStatus{"sequencer", cluster.sequencer});
  for (const RoleLocation& proxy : cluster.proxies) roles.push_back(RoleStatus{"proxy", proxy.address});
  for (const ResolverLocation& resolver : cluster.resolvers) roles.push_back(RoleStatus{"resolver", resolver.location.address});
  for (const RoleLocation& tlog : cluster.tlogs) roles.push_back(RoleStatus{"tlog", tlog.address});
  for (const StorageLocation& storage : cluster.storage) roles.push_back(RoleStatus{"storage", storage.location.address});
  return roles;
}

// The status of one storage server, or an entry marked unreachable.
Future<StorageServerStatus> storage_status(StorageLocation location) {
  StorageServerInterface storage = storage_at(location.location.address, location.location.index, location.tag);
  GetStorageStatusRequest request;
  Future<StorageServerStatus> reply = timeout_error(storage.get_status.get_reply(request), status_timeout_seconds);
  co_await ready(reply);
  if (!reply.is_error()) co_return reply.get();
  StorageServerStatus unreachable;
  unreachable.tag = location.tag;
  unreachable.address = location.location.address;
  unreachable.reachable = false;
  co_return unreachable;
}

Future<ClusterStatus> gather_status(ClusterConfig cluster, uint64_t generation, SequencerInterface sequencer) {
  ClusterStatus status;
  status.generation = generation;
  status.coordinator = cluster.sequencer;
  status.roles = roles_of(cluster);
  GetLiveCommittedVersionRequest live;
  Future<LiveCommittedVersionReply> committed = sequencer.get_live_committed_version.get_reply(live);
  std::vector<Future<StorageServerStatus>> storage;
  for (const StorageLocation& location : cluster.storage) storage.push_back(storage_status(location));
  Future<std::vector<StorageServerStatus>> all_storage = when_all(std::move(storage));
  status.live_committed_version = (co_await committed).version;
  status.storage = co_await all_storage;
  co_return status;
}

Future<Void> answer_status(GetClusterStatusRequest request, Future<ClusterStatus> status) {
  co_await ready(status);
  if (status.is_error()) request.reply.send_error(status.error());
  else request.reply.send(status.get());
  co_return Void{};
}

Future<Void> serve_status(RequestStream<GetClusterStatusRequest> stream, ClusterConfig cluster, uint64_t generation,
                          SequencerInterface sequencer) {
  ActorCollection answers;
  FutureStream<GetClusterStatusRequest> requests = stream.requests();
  while (true) {
    GetClusterStatusRequest request = co_await requests.next();
    Future<ClusterStatus> status = gather_status(cluster, generation, sequencer);
    answers.add(answer_status(std::move(request), std::move(status)));
  }
}

// Starts a generation: from what the logs hold to a running sequencer.
Future<Void> start_generation(ClusterConfig cluster, SequencerInterface sequencer,
                              RequestStream<GetClusterDescriptionRequest> description,
                              RequestStream<GetClusterStatusRequest> status) {
  std::vector<Future<Version>> ends;
  for (const RoleLocation& tlog : cluster.tlogs) ends.push_back(durable_end_of(tlog_at(tlog.address, tlog.index)));
  Future<std::vector<Version>> all_ends = when_all(std::move(ends));
  const std::vector<Version> logged = co_await all_ends;
  const Version recovery_version = *std::min_element(logged.begin(), logged.end()) - 1;
  const Version highest_version = *std::max_element(logged.begin(), logged.end()) - 1;
  const uint64_t generation = static_cast<uint64_t>(highest_version) + 1;
  ClusterDescription served;
  served.generation = generation;
  for (const RoleLocation& proxy : cluster.proxies) served.proxies.push_back(proxy_at(proxy.address, proxy.index));
  ActorCollection actors;
  actors.add(run_sequencer(sequencer, generation, recovery_version, highest_version));
  actors.add(serve_description(description, served));
  actors.add(serve_status(status, cluster, generation, sequencer));
  co_await actors.result();
  co_return Void{};
}

std::vector<KeyRange> shards_of(const ClusterConfig& cluster, Tag tag) {
  std::vector<KeyRange> shards;
  for (const ShardAssignment& shard : cluster.shards) {
    if (std::find(shard.tags.begin(), shard.tags.end(), tag) != shard.tags.end()) shards.push_back(shard.range);
  }
  return shards;
}

}  // namespace

Future<Void> run_worker(WorkerOptions options) {
  const ClusterConfig& cluster = options.cluster;
  cluster.validate();
  const NetworkAddress self = Transport::current().local_address();
  ActorCollection roles;
  // Every endpoint is registered before anything waits, so no request finds a role missing.
  for (const RoleLocation& tlog : cluster.tlogs) {
    if (tlog.address != self) continue;
    roles.add(run_tlog(serve_tlog(tlog.index), fmt::format("{}/tlog-{}", options.data_directory, tlog.index)));
  }
  for (const ResolverLocation& resolver : cluster.resolvers) {
    if (resolver.location.address == self) roles.add(run_resolver(serve_resolver(resolver.location.index)));
  }
  if (cluster.sequencer == self) {
    roles.add(start_generation(cluster, serve_sequencer(), serve_cluster_description(), serve_cluster_status()));
  }
  for (const StorageLocation& storage : cluster.storage) {
    if (storage.location.address != self) continue;
    StorageServerConfig config;
    config.tag = storage.tag;
    config.shards = shards_of(cluster, storage.tag);
    const RoleLocation& log = cluster.tlogs[cluster.tlog_for(storage.tag)];
    config.tlog = tlog_at(log.address, log.index);
    config.directory = fmt::format("{}/storage-{}", options.data_directory, storage.tag);
    config.engine = options.engine;
    roles.add(run_storage_server(serve_storage(storage.location.index, storage.tag), std::move(config)));
  }
  for (const RoleLocation& proxy : cluster.proxies) {
    if (proxy.address == self) roles.add(run_proxy(serve_proxy(proxy.index), cluster, proxy.index));
  }
  TraceEvent("WorkerStarted").detail("Address", self.to_string()).detail("Roles", roles.size());
  co_await roles.result();
  co_return Void{};
}

}  // namespace keel

// The cluster's status as the controller sees it: the generation and its recovery, the roles
// and where they run, the workers, every storage server's own report, and replication health.
#include <algorithm>
#include <set>

#include "protocol/well_known.h"
#include "rpc/transport.h"
#include "runtime/combinators.h"
#include "server/cluster_controller/controller_state.h"

namespace keel {
namespace {

constexpr double status_timeout_seconds = 2.0;

}  // namespace

std::vector<RoleStatus> roles_of(const ServerDBInfo& info) {
  std::vector<RoleStatus> roles;
  if (info.id == 0) return roles;
  roles.push_back(RoleStatus{"sequencer", info.sequencer.get_commit_version.endpoint().address});
  for (const ProxyInterface& proxy : info.proxies) roles.push_back(RoleStatus{"proxy", proxy.commit.endpoint().address});
  for (const ResolverInterface& resolver : info.resolvers) {
    roles.push_back(RoleStatus{"resolver", resolver.resolve.endpoint().address});
  }
  for (const TLogInterface& log : info.tlogs) roles.push_back(RoleStatus{"tlog", log.commit.endpoint().address});
  roles.push_back(RoleStatus{"ratekeeper", info.ratekeeper.get_rate_info.endpoint().address});
  return roles;
}

namespace {

// What the ratekeeper says about admission control (known = false when it does not answer).
Future<RateStatus> rate_status(RatekeeperInterface ratekeeper) {
  GetRateStatusRequest request;
  Future<RateStatus> reply = timeout_error(ratekeeper.get_status.get_reply(request), status_timeout_seconds);
  co_await ready(reply);
  co_return reply.is_error() ? RateStatus{} : reply.get();
}

// The configured replication factor and, from the storage servers' reports, the fewest
// reachable servers of any shard and every shard below k.
void add_replication_health(const std::vector<ShardAssignment>& shards, int32_t replicas, ClusterStatus& status) {
  std::set<Tag> reachable;
  for (const StorageServerStatus& server : status.storage) {
    if (server.reachable) reachable.insert(server.tag);
  }
  status.storage_replicas = replicas;
  status.replicas_reachable_min = replicas;
  for (const ShardAssignment& shard : shards) {
    if (shard.moving()) ++status.shards_moving;
    const auto count = static_cast<int32_t>(
        std::count_if(shard.tags.begin(), shard.tags.end(), [&reachable](Tag tag) { return reachable.count(tag) > 0; }));
    status.replicas_reachable_min = std::min(status.replicas_reachable_min, count);
    if (count < replicas) status.degraded_shards.push_back(ShardReplicationStatus{shard.range, count});
  }
}

}  // namespace

Future<ClusterStatus> gather_status(ControllerState* state) {
  const ServerDBInfo info = state->db_info.get();
  ClusterStatus status;
  status.generation = info.generation;
  status.coordinator = Transport::current().local_address();
  status.roles = roles_of(info);
  status.recovery_state = recovery_state_name(state->recovery_state);
  status.recovery_seconds = info.recovery_seconds;
  status.recoveries = state->recoveries;
  status.coordinators = state->connection->get().coordinators;
  status.excluded = state->settings.excluded;
  for (const auto& [address, entry] : state->workers) {
    status.workers.push_back(WorkerStatus{address, entry.process_class, !state->is_available(entry)});
  }
  Future<Version> committed = info.id == 0 ? Future<Version>(Version{0}) : ask_live_committed_version(info.sequencer, status_timeout_seconds);
  Future<RateStatus> rate = info.id == 0 ? Future<RateStatus>(RateStatus{}) : rate_status(info.ratekeeper);
  std::vector<Future<StorageServerStatus>> storage;
  for (const StorageLocation& location : state->cluster.storage) storage.push_back(ask_storage_status(location, status_timeout_seconds));
  Future<std::vector<StorageServerStatus>> all_storage = when_all(std::move(storage));
  status.live_committed_version = co_await committed;
  status.storage = co_await all_storage;
  status.rate = co_await rate;
  add_replication_health(info.shards.empty() ? state->cluster.shards : info.shards, storage_replicas(*state), status);
  status.moves_finished = state->moves_finished;
  co_return status;
}

}  // namespace keel

// Data distribution (docs/fault_tolerance.md, "Data distribution as built"): a loop of the
// cluster controller that keeps every shard on a team of k healthy storage servers in distinct
// zones. Every distributor_interval_seconds it asks every storage server for its status, plans
// (team_planner.h) and, when the map changes, writes it into the core state (fenced like every
// core state write) and recovers: the next generation's proxies send the moving shards'
// mutations to their new members too, and those fetch the shards. A move finishes, by another
// such change, once every new member reports the shard complete and durable.
//
// The logs of each generation also drop what they hold for storage servers the generation's
// map gives no shard (a dead server whose shards moved away, which would otherwise never pop):
// nothing of that generation is tagged for them, and what older ones tagged is for shards they
// no longer have. Otherwise every recovery would copy that backlog into the new logs.
#include <algorithm>
#include <limits>
#include <map>

#include "protocol/well_known.h"
#include "rpc/serialize.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "server/cluster_controller/controller_state.h"
#include "server/cluster_controller/distributor_knobs.h"
#include "server/cluster_controller/team_planner.h"

namespace keel {
namespace {

constexpr double request_timeout_seconds = 2.0;

bool reports_holding(const StorageServerStatus& status, const ShardAssignment& shard) {
  if (!status.reachable || status.followed_generation < shard.joined_generation(status.tag)) return false;
  return std::find(status.durable_shards.begin(), status.durable_shards.end(), shard.range) != status.durable_shards.end();
}

// Writes `plan` over the map of generation `info` into the core state, unless the core state
// moved on (a recovery or another change since).
Future<bool> write_shard_map(ControllerState* state, const ServerDBInfo& info, std::vector<ShardAssignment> shards) {
  CoordinatedState core_state(coordinator_set(state->connection->get()), new_proposer_id());
  const std::string stored = co_await core_state.read();
  CoreState core = stored.empty() ? CoreState{} : deserialize_from_string<CoreState>(stored);
  if (core.generation != info.generation || core.shards != info.shards || !core.moving_to.empty()) co_return false;
  core.shards = std::move(shards);
  Future<Void> written = core_state.write(serialize_to_string(core));
  co_await written;
  co_return true;
}

// Pops, in every log of `info`'s generation, the tags of the storage servers its map gives no
// shard. Errors are ignored: a log that failed ends the generation anyway.
Future<Void> pop_unassigned(const ControllerState& state, const ServerDBInfo& info) {
  std::vector<Future<Void>> popped;
  for (const StorageLocation& location : state.cluster.storage) {
    const bool assigned = std::any_of(info.shards.begin(), info.shards.end(),
                                      [&](const ShardAssignment& shard) { return shard.has(location.tag); });
    if (assigned) continue;
    for (const TLogInterface& log : info.tlogs) {
      TLogPopRequest pop;
      pop.tag = location.tag;
      pop.up_to = std::numeric_limits<Version>::max();
      popped.push_back(ready(timeout_error(log.pop.get_reply(pop), request_timeout_seconds)));
    }
  }
  if (popped.empty()) co_return Void{};
  Future<std::vector<Void>> all = when_all(std::move(popped));
  co_await all;
  TraceEvent("DataDistributionPoppedUnassigned").detail("Generation", info.generation);
  co_return Void{};
}

// Marks when the tenure's watch ended: at the loop's end, which is a cancellation (the lease
// lost, the controller ending).
struct WatchEnd {
  explicit WatchEnd(ReachabilityMemory& memory) : memory(memory) {}
  WatchEnd(const WatchEnd&) = delete;
  WatchEnd& operator=(const WatchEnd&) = delete;
  ~WatchEnd() {
    if (has_scheduler()) memory.watched_until = now();  // none when a world is torn down
  }
  ReachabilityMemory& memory;
};

}  // namespace

int32_t storage_replicas(const ControllerState& state) {
  return state.settings.storage_replicas > 0 ? state.settings.storage_replicas : state.cluster.storage_replicas;
}

Future<Void> distribute_data(ControllerState* state) {
  // The count towards dead goes on from this process's last tenure, if it had one (a server
  // that answered meanwhile answers this tenure's first round). A gap between tenures shorter
  // than the dead time counts as unreachable time; a longer one is skipped: what was counted
  // when the last tenure ended is kept, so tenures cut short by lost leases still add up
  // (rereplication.toml seed 7400251: four tenures of 2-3 s, 3.1 s or more apart, in a 15 s
  // outage). The watch, and so the count, runs from the tenure's start to its end, rounds or
  // none (seed 7400400: a tenure lost before its first round).
  ReachabilityMemory& memory = *state->reachability;
  std::map<Tag, double>& last_reachable = memory.last_reachable;
  const double gap = memory.watched_until >= 0 ? now() - memory.watched_until : -1;
  const bool remembered = gap >= 0;
  const double skipped = gap < distributor_knobs().distributor_dead_server_seconds ? 0 : gap;
  for (const StorageLocation& location : state->cluster.storage) {
    auto it = last_reachable.find(location.tag);
    if (!remembered || it == last_reachable.end()) last_reachable[location.tag] = now();
    else it->second += skipped;
  }
  const WatchEnd watch_end(memory);
  uint64_t changed_generation = 0;  // a change was written over this generation's map
  uint64_t popped_generation = 0;   // the unassigned tags were popped in this generation's logs
  while (true) {
    const DistributorKnobs& knobs = distributor_knobs();
    co_await delay(knobs.distributor_interval_seconds);
    const ServerDBInfo info = state->db_info.get();
    if (info.id == 0 || !info.accepting_commits()) continue;
    if (info.generation > popped_generation) {
      popped_generation = info.generation;
      co_await pop_unassigned(*state, info);
    }
    if (info.generation <= changed_generation) continue;
    // A round waits at most one interval for each answer: a server that is down (its machine
    // off, so no connection even fails) would otherwise hold every round, and with it the
    // decision that it is dead, for the whole status timeout. With 2 s, a controller elected
    // late in a server's outage could see the server come back before a round found it dead.
    std::vector<Future<StorageServerStatus>> asked;
    for (const StorageLocation& location : state->cluster.storage) {
      asked.push_back(ask_storage_status(location, std::min(request_timeout_seconds, knobs.distributor_interval_seconds)));
    }
    Future<std::vector<StorageServerStatus>> all = when_all(std::move(asked));
    const std::vector<StorageServerStatus> statuses = co_await all;
    if (state->db_info.get().id != info.id) continue;  // a recovery meanwhile: look again
    std::vector<ServerHealth> servers;
    std::map<Tag, const StorageServerStatus*> reports;
    for (size_t i = 0; i < statuses.size(); ++i) {
      const StorageLocation& location = state->cluster.storage[i];
      const StorageServerStatus& status = statuses[i];
      if (status.reachable) last_reachable[location.tag] = now();
      reports[location.tag] = &status;
      ServerHealth health;
      health.tag = location.tag;
      health.zone = zone_of(location);
      health.reachable = status.reachable;
      health.dead = now() - last_reachable[location.tag] > knobs.distributor_dead_server_seconds;
      health.excluded = state->is_excluded(location.location.address);
      servers.push_back(std::move(health));
    }
    HoldsShard holds = [&reports](Tag tag, const ShardAssignment& shard) {
      auto it = reports.find(tag);
      return it != reports.end() && reports_holding(*it->second, shard);
    };
    DistributionPlan plan = plan_distribution(info.shards, servers, storage_replicas(*state), holds,
                                              info.generation + 1, static_cast<int>(knobs.distributor_moves_max));
    if (plan.shards == info.shards) continue;
    Future<bool> written = write_shard_map(state, info, plan.shards);
    co_await ready(written);
    if (written.is_error() || !written.get()) {
      TraceEvent(Severity::info, "DataDistributionRaced").error(written.is_error() ? written.error() : Error(errc::success));
      continue;
    }
    changed_generation = info.generation;
    state->moves_finished += plan.finished;
    TraceEvent(Severity::warn_always, "DataDistributionChanged")
        .detail("Generation", info.generation)
        .detail("Started", plan.started)
        .detail("Finished", plan.finished)
        .detail("Shrunk", plan.shrunk)
        .detail("Shards", describe_shards(plan.shards));
    state->reconfigurations.set(state->reconfigurations.get() + 1);
  }
}

}  // namespace keel

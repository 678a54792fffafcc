// Changing the coordinators (docs/coordination.md, "Changing the coordinators"). The core state
// moves from the old set to a new one in four steps, each safe to repeat:
//   1. read the new set (a fresh random cluster id, so it must be empty): proves a majority of
//      it answers before the old set commits to it;
//   2. write the core state to the old set with `moving_to` naming the new set: from here every
//      recovery that reads the old set finishes the move instead of recovering there;
//   3. write the core state (without `moving_to`) to the new set, unless it already holds one
//      (a later recovery under the new set wrote it: never overwrite that);
//   4. forward the old set's coordinators to the new one, and follow it.
// Paxos fences every step: a recovery that read either set in between makes the stale write
// fail with coordinated_state_conflict.
#include <algorithm>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "protocol/well_known.h"
#include "rpc/serialize.h"
#include "rpc/transport.h"
#include "runtime/combinators.h"
#include "runtime/random.h"
#include "runtime/trace.h"
#include "server/cluster_controller/controller_state.h"
#include "server/coordinator/coordinator_knobs.h"

namespace keel {
namespace {

// Step 4: each old coordinator is told once; those down now learn nothing, but a set is forwarded
// only after its successor holds the core state, and a recovery that reads the old set's
// `moving_to` forwards it again.
Future<Void> forward_old_set(CoordinatorSet old_set, std::string forward) {
  std::vector<Future<Void>> sent;
  for (const CoordinatorInterface& coordinator : old_set.coordinators) {
    ForwardRequest request;
    request.cluster_id = old_set.cluster_id;
    request.forward = forward;
    sent.push_back(ready(timeout_error(coordinator.forward.get_reply(request), coordinator_knobs().coordinator_request_timeout_seconds)));
  }
  Future<std::vector<Void>> all = when_all(std::move(sent));
  co_await all;
  co_return Void{};
}

// Steps 3 and 4, with `next` already read (step 1) and `core`, read from `old_set`, naming the new
// set in moving_to. The old set is the one the core state was read from, never the connection
// followed now: two completions of one move may run at once (the change and a recovery that read
// the mark), and the second must not forward the new set to itself, which no client could leave.
Future<Void> complete_move(ControllerState* state, CoordinatorSet old_set, CoordinatedState* next, const std::string& existing,
                           CoreState core) {
  const std::string forward = core.moving_to;
  if (existing.empty()) {
    core.moving_to.clear();
    Future<Void> written = next->write(serialize_to_string(core));
    co_await written;
  }
  // Simulation widens the window in which the new set holds the core state and the old one
  // does not forward yet.
  if (buggify()) co_await delay(deterministic_random().random01());
  const std::string old_cluster_id = old_set.cluster_id;
  Future<Void> forwarded = forward_old_set(std::move(old_set), forward);
  co_await forwarded;
  TraceEvent(Severity::warn_always, "CoordinatorsMoved")
      .detail("FromClusterId", old_cluster_id)
      .detail("To", forward)
      .detail("Generation", core.generation);
  Future<Void> followed = state->connection->follow(forward);
  co_await followed;
  co_return Void{};
}

// A worker's zone: the configured zone of a storage server it hosts, else its address.
std::string zone_of_worker(const ClusterConfig& cluster, const NetworkAddress& address) {
  for (const StorageLocation& storage : cluster.storage) {
    if (storage.location.address == address) return zone_of(storage);
  }
  return address.to_string();
}

// "auto": as many coordinators as the replication mode asks (1, 3, 5 for single, double,
// triple), capped by the live workers' zones (odd); current coordinators that are alive first,
// then other live workers, one per zone; never excluded ones.
std::vector<NetworkAddress> choose_coordinators(const ControllerState& state) {
  const int32_t k = state.cluster.storage_replicas;
  const size_t wanted = k >= 3 ? 5 : (k == 2 ? 3 : 1);
  std::vector<NetworkAddress> candidates;
  for (const NetworkAddress& address : state.connection->get().coordinators) {
    auto it = state.workers.find(address);
    if (it != state.workers.end() && state.is_available(it->second) && !state.is_excluded(address)) {
      candidates.push_back(address);
    }
  }
  std::vector<NetworkAddress> others;
  for (const auto& [address, entry] : state.workers) {
    if (state.is_available(entry) && !state.is_excluded(address) &&
        std::find(candidates.begin(), candidates.end(), address) == candidates.end()) {
      others.push_back(address);
    }
  }
  for (size_t i = others.size(); i > 1; --i) {
    std::swap(others[i - 1], others[static_cast<size_t>(deterministic_random().random_int(0, static_cast<int64_t>(i)))]);
  }
  candidates.insert(candidates.end(), others.begin(), others.end());
  std::vector<NetworkAddress> chosen;
  std::set<std::string> zones;
  for (const NetworkAddress& address : candidates) {
    if (chosen.size() == wanted) break;
    if (zones.insert(zone_of_worker(state.cluster, address)).second) chosen.push_back(address);
  }
  if (chosen.size() % 2 == 0 && !chosen.empty()) chosen.pop_back();
  return chosen;
}

// A controller elected a moment ago may not have heard from every worker yet. Before it judges
// which processes are alive, it waits (until it has run worker_silence_seconds, the time every
// live worker takes at most to register) for those of `addresses` not known to have failed:
// otherwise `auto` would replace a live coordinator it has not heard from, and a named set
// would be refused.
Future<Void> hear_from(ControllerState* state, std::vector<NetworkAddress> addresses) {
  while (true) {
    const double waited = now() - state->started_at;
    if (waited >= worker_silence_seconds) break;
    const bool heard_all = std::all_of(addresses.begin(), addresses.end(), [&](const NetworkAddress& address) {
      return state->workers.count(address) != 0 || Transport::current().failure_monitor().is_failed(address);
    });
    if (heard_all) break;
    Future<Void> registered = state->registrations.when_at_least(state->registrations.get() + 1);
    Future<std::optional<Void>> heard = timeout(std::move(registered), worker_silence_seconds - waited);
    if (!(co_await heard)) break;  // timed out: the time is up
  }
  co_return Void{};
}

// The new set, checked: 1, 3 or 5 distinct addresses of live registered workers.
std::vector<NetworkAddress> checked_coordinators(const ControllerState& state, const ChangeCoordinatorsRequest& request) {
  const std::vector<NetworkAddress> chosen = request.automatic ? choose_coordinators(state) : request.coordinators;
  const std::set<NetworkAddress> distinct(chosen.begin(), chosen.end());
  std::string problem;
  if (chosen.empty() || chosen.size() % 2 == 0 || chosen.size() > coordinators_max) {
    problem = fmt::format("{} coordinators (1, 3 or 5 needed)", chosen.size());
  } else if (distinct.size() != chosen.size()) {
    problem = "an address is named twice";
  }
  for (const NetworkAddress& address : chosen) {
    auto it = state.workers.find(address);
    if (problem.empty() && (it == state.workers.end() || !state.is_available(it->second))) {
      problem = fmt::format("{} is not a live keel server process of this cluster", address.to_string());
    }
  }
  if (!problem.empty()) {
    TraceEvent(Severity::warn_always, "CoordinatorsChangeRefused").detail("Problem", problem).detail("Requested", describe_addresses(chosen));
    throw Error(errc::coordinators_invalid);
  }
  return chosen;
}

// What a change request came to: the cluster's connection string from now on, and whether the
// coordinators move (the controller then steps down, so the next one runs on the new set).
struct CoordinatorsChangeOutcome {
  std::string connection;
  bool moved = false;
};

// Steps 1 to 4.
Future<CoordinatorsChangeOutcome> change_coordinators(ControllerState* state, ChangeCoordinatorsRequest request) {
  Future<Void> heard = hear_from(state, request.automatic ? state->connection->get().coordinators : request.coordinators);
  co_await heard;
  ClusterConnectionString next_connection;
  next_connection.coordinators = checked_coordinators(*state, request);
  // The set it has already (in any order): nothing to move, the connection string stays.
  const ClusterConnectionString& current = state->connection->get();
  if (std::is_permutation(next_connection.coordinators.begin(), next_connection.coordinators.end(),
                          current.coordinators.begin(), current.coordinators.end())) {
    TraceEvent("CoordinatorsChangeUnneeded").detail("Coordinators", describe_addresses(current.coordinators));
    co_return CoordinatorsChangeOutcome{format_connection_string(current), false};
  }
  next_connection.id = fmt::format("{:016x}", deterministic_random().next_u64());
  const std::string forward = format_connection_string(next_connection);
  TraceEvent(Severity::warn_always, "CoordinatorsChangeStarted")
      .detail("From", format_connection_string(state->connection->get()))
      .detail("To", forward);

  CoordinatedState next(coordinator_set(next_connection), new_proposer_id());
  Future<std::string> fresh = next.read();
  co_await ready(fresh);
  if (fresh.is_error()) {
    TraceEvent(Severity::warn_always, "CoordinatorsChangeUnreachable").detail("To", forward).error(fresh.error());
    throw Error(errc::coordinators_unreachable);
  }

  CoordinatedState old(coordinator_set(state->connection->get()), new_proposer_id());
  const std::string stored = co_await old.read();
  CoreState core = stored.empty() ? CoreState{} : deserialize_from_string<CoreState>(stored);
  if (!core.moving_to.empty()) throw Error(errc::coordinated_state_conflict);  // a move is already under way
  state->settings = core.settings;
  core.moving_to = forward;
  Future<Void> marked = old.write(serialize_to_string(core));
  co_await marked;
  // From here the move happens: if this attempt to finish it fails, the recovery that follows
  // this controller's step-down finishes it (simulation sometimes leaves it to that recovery).
  if (buggify()) {
    TraceEvent("CoordinatorsChangeLeftToRecovery").detail("To", forward);
    co_return CoordinatorsChangeOutcome{forward, true};
  }
  Future<Void> completed = complete_move(state, old.coordinators(), &next, fresh.get(), core);
  co_await ready(completed);
  if (completed.is_error()) TraceEvent(Severity::warn_always, "CoordinatorsChangeUnfinished").error(completed.error());
  co_return CoordinatorsChangeOutcome{forward, true};
}

}  // namespace

Future<Void> finish_coordinators_move(ControllerState* state, CoordinatorSet old_set, CoreState core) {
  ClusterConnectionString next_connection;
  try {
    next_connection = parse_connection_string(core.moving_to);
  } catch (const Error&) {
    TraceEvent(Severity::error, "CoordinatorsMoveInvalid").detail("MovingTo", core.moving_to);
    throw Error(errc::recovery_failed);
  }
  TraceEvent(Severity::warn_always, "CoordinatorsMoveFinishing").detail("To", core.moving_to);
  CoordinatedState next(coordinator_set(next_connection), new_proposer_id());
  const std::string existing = co_await next.read();
  Future<Void> completed = complete_move(state, std::move(old_set), &next, existing, std::move(core));
  co_await completed;
  throw Error(errc::coordinators_changed);
}

Future<Void> serve_coordinators_changes(ControllerState* state) {
  FutureStream<ChangeCoordinatorsRequest> requests = state->self.change_coordinators.requests();
  while (true) {
    ChangeCoordinatorsRequest request = co_await requests.next();
    ReplyPromise<std::string> reply = request.reply;
    Future<CoordinatorsChangeOutcome> changed = change_coordinators(state, std::move(request));
    co_await ready(changed);
    if (changed.is_error()) {
      TraceEvent(Severity::warn_always, "CoordinatorsChangeFailed").error(changed.error());
      reply.send_error(changed.error());
      continue;  // the old set still holds the core state, unless a recovery finishes the move
    }
    reply.send(changed.get().connection);
    if (changed.get().moved) throw Error(errc::coordinators_changed);
  }
}

}  // namespace keel

#include "server/cluster_controller/cluster_controller.h"

#include <algorithm>

#include "protocol/well_known.h"
#include "rpc/transport.h"
#include "runtime/combinators.h"
#include "runtime/random.h"
#include "runtime/trace.h"
#include "server/cluster_controller/controller_state.h"

namespace keel {

bool ControllerState::is_available(const WorkerEntry& entry) const {
  if (now() - entry.last_seen > worker_silence_seconds) return false;
  return !Transport::current().failure_monitor().is_failed(entry.worker.address);
}

bool ControllerState::is_excluded(const NetworkAddress& address) const {
  return std::find(settings.excluded.begin(), settings.excluded.end(), address) != settings.excluded.end();
}

std::vector<WorkerInterface> ControllerState::transaction_workers() const {
  std::vector<WorkerInterface> found;
  for (const auto& [address, entry] : workers) {
    if (entry.process_class != process_class_storage && is_available(entry) && !is_excluded(address)) {
      found.push_back(entry.worker);
    }
  }
  return found;
}

uint64_t new_proposer_id() {
  uint64_t id = 0;
  while (id == 0) id = deterministic_random().next_u64();
  return id;
}

namespace {

// Answers a registration at once when the worker's ServerDBInfo is out of date, otherwise (or
// while this controller has published nothing yet) at the next publication or after
// register_hold_seconds, whichever comes first.
Future<Void> answer_registration(ControllerState* state, RegisterWorkerRequest request) {
  const uint64_t published = state->db_info.get().id;
  if (published == 0 || request.known_db_info_id == published) {
    Future<Void> changed = state->db_info.on_change();
    co_await timeout(changed, register_hold_seconds);
  }
  request.reply.send(state->db_info.get());
  co_return Void{};
}

Future<Void> serve_registrations(ControllerState* state) {
  ActorCollection answers;
  FutureStream<RegisterWorkerRequest> requests = state->self.register_worker.requests();
  while (true) {
    RegisterWorkerRequest request = co_await requests.next();
    const NetworkAddress address = request.worker.address;
    auto [it, inserted] = state->workers.try_emplace(address);
    if (inserted) TraceEvent("ControllerWorkerRegistered").detail("Address", address.to_string()).detail("Class", request.process_class);
    it->second = WorkerEntry{request.worker, request.process_class, now()};
    state->registrations.set(state->registrations.get() + 1);
    answers.add(answer_registration(state, std::move(request)));
  }
}

Future<Void> answer_status(ControllerState* state, GetClusterStatusRequest request) {
  Future<ClusterStatus> status = gather_status(state);
  co_await ready(status);
  if (status.is_error()) request.reply.send_error(status.error());
  else request.reply.send(status.get());
  co_return Void{};
}

Future<Void> serve_status(ControllerState* state) {
  ActorCollection answers;
  FutureStream<GetClusterStatusRequest> requests = state->self.get_status.requests();
  while (true) {
    GetClusterStatusRequest request = co_await requests.next();
    answers.add(answer_status(state, std::move(request)));
  }
}

// Recovers, waits for the generation to fail, and recovers again, for as long as it leads.
Future<Void> run_recoveries(ControllerState* state) {
  CoordinatedState core_state(coordinator_set(state->connection->get()), new_proposer_id());
  while (true) {
    Error failure;
    try {
      co_await recover(state, &core_state);
      ++state->recoveries;
      Future<Void> failed = generation_failed(state->db_info.get());
      Future<Void> reconfigured = state->reconfigurations.when_at_least(state->reconfigurations.get() + 1);
      std::variant<Void, Void> first = co_await race(std::move(failed), std::move(reconfigured));
      if (first.index() == 0) {
        TraceEvent(Severity::warn_always, "ControllerGenerationFailed").detail("Generation", state->db_info.get().generation);
      } else {
        TraceEvent(Severity::warn_always, "ControllerReconfiguring").detail("Generation", state->db_info.get().generation);
      }
      continue;
    } catch (const Error& error) {
      if (error.code() == errc::leadership_lost || error.code() == errc::operation_cancelled ||
          error.code() == errc::coordinators_changed) {
        throw;
      }
      failure = error;
    }
    TraceEvent(Severity::warn_always, "ControllerRecoveryFailed").error(failure);
    co_await delay(0.05 + deterministic_random().random01() * 0.1);
  }
}

}  // namespace

Future<Void> run_cluster_controller(ClusterControllerInterface controller, ClusterConfig cluster,
                                    std::shared_ptr<ClusterConnection> connection, LeaderCandidate* candidate,
                                    ReachabilityMemory* reachability) {
  ControllerState state;
  state.reachability = reachability;
  state.cluster = std::move(cluster);
  state.connection = std::move(connection);
  state.self = controller;
  state.candidate = candidate;
  state.started_at = now();
  TraceEvent("ControllerStarted").detail("Address", Transport::current().local_address().to_string());
  ActorCollection actors;
  actors.add(serve_registrations(&state));
  actors.add(serve_status(&state));
  actors.add(run_recoveries(&state));
  actors.add(serve_coordinators_changes(&state));
  actors.add(serve_settings_changes(&state));
  actors.add(distribute_data(&state));
  co_await actors.result();
  co_return Void{};
}

}  // namespace keel

#include "server/coordinator/coordinator.h"

#include <map>
#include <memory>

#include "protocol/cluster_file.h"
#include "runtime/combinators.h"
#include "runtime/notified.h"
#include "runtime/trace.h"
#include "server/coordinator/coordinator_knobs.h"
#include "server/coordinator/election.h"
#include "server/coordinator/generation_register.h"
#include "server/coordinator/register_file.h"
#include "world/world.h"

namespace keel {
namespace {

// One cluster id's registers.
struct ClusterRegisters {
  ClusterRegisters(std::string directory_, GenerationRegisterState loaded, double started_at)
      : directory(std::move(directory_)),
        generation_register(loaded),
        leader_register(started_at, ElectionTiming{coordinator_knobs().leader_lease_seconds,
                                                   coordinator_knobs().candidate_timeout_seconds}) {}

  std::string directory;
  GenerationRegister generation_register;
  LeaderRegister leader_register;
  uint64_t steps = 0;                  // steps that changed the durable state
  NotifiedValue<uint64_t> changed{0};  // = steps, for the save loop to wait on
  NotifiedValue<uint64_t> saved{0};    // every step up to this one is durable

  const std::string& forward() const { return generation_register.state().forward; }
};

struct CoordinatorState {
  std::string directory;
  double started_at = 0;
  std::map<std::string, std::unique_ptr<ClusterRegisters>> clusters;
  ActorCollection actors;  // save loops and replies waiting for saves
};

// Saves the id's latest state whenever it changed; one save covers every step before it started.
Future<Void> save_loop(ClusterRegisters* registers) {
  bool directory_made = false;
  while (true) {
    co_await registers->changed.when_at_least(registers->saved.get() + 1);
    if (!directory_made) {
      Future<Void> made = world().create_directories(registers->directory);
      co_await made;
      directory_made = true;
    }
    const uint64_t target = registers->steps;
    Future<Void> saved = save_register(registers->directory, registers->generation_register.state());
    co_await saved;
    registers->saved.set(target);
  }
}

ClusterRegisters& add_cluster(CoordinatorState* state, const std::string& id, GenerationRegisterState loaded) {
  auto registers = std::make_unique<ClusterRegisters>(state->directory + "/" + id, std::move(loaded), state->started_at);
  ClusterRegisters& added = *registers;
  state->clusters[id] = std::move(registers);
  state->actors.add(save_loop(&added));
  return added;
}

// The registers of `id`, new and empty if this coordinator never heard of it. Nullptr for an
// id the cluster file format does not allow (it would not make a directory name).
ClusterRegisters* registers_of(CoordinatorState* state, const std::string& id) {
  if (!valid_cluster_id(id)) return nullptr;
  auto it = state->clusters.find(id);
  if (it != state->clusters.end()) return it->second.get();
  return &add_cluster(state, id, GenerationRegisterState{});
}

void note_change(ClusterRegisters& registers, const GenerationRegisterState& before) {
  if (registers.generation_register.state() == before) return;
  registers.changed.set(++registers.steps);
}

template <class Reply>
Future<Void> reply_when_saved(ClusterRegisters* registers, uint64_t step, ReplyPromise<Reply> promise, Reply reply) {
  co_await registers->saved.when_at_least(step);
  promise.send(reply);
  co_return Void{};
}

// The registers a register or candidacy request may step: nullptr after answering the error.
template <class Request>
ClusterRegisters* usable_registers(CoordinatorState* state, Request& request) {
  ClusterRegisters* registers = registers_of(state, request.cluster_id);
  if (registers == nullptr) {
    request.reply.send_error(Error(errc::client_invalid_operation));
    return nullptr;
  }
  if (!registers->forward().empty()) {
    request.reply.send_error(Error(errc::coordinators_changed));
    return nullptr;
  }
  return registers;
}

Future<Void> serve_reads(CoordinatorState* state, FutureStream<RegisterReadRequest> requests) {
  while (true) {
    RegisterReadRequest request = co_await requests.next();
    ClusterRegisters* registers = usable_registers(state, request);
    if (registers == nullptr) continue;
    if (is_initial(request.generation)) {
      request.reply.send_error(Error(errc::client_invalid_operation));  // generation zero is "none"
      continue;
    }
    const GenerationRegisterState before = registers->generation_register.state();
    RegisterReadReply reply = registers->generation_register.read(request.generation);
    note_change(*registers, before);
    state->actors.add(reply_when_saved(registers, registers->steps, request.reply, std::move(reply)));
  }
}

Future<Void> serve_writes(CoordinatorState* state, FutureStream<RegisterWriteRequest> requests) {
  while (true) {
    RegisterWriteRequest request = co_await requests.next();
    ClusterRegisters* registers = usable_registers(state, request);
    if (registers == nullptr) continue;
    if (is_initial(request.generation) || request.value.size() > coordinated_value_bytes_max) {
      const bool too_large = request.value.size() > coordinated_value_bytes_max;
      request.reply.send_error(Error(too_large ? errc::value_too_large : errc::client_invalid_operation));
      continue;
    }
    const GenerationRegisterState before = registers->generation_register.state();
    RegisterWriteReply reply = registers->generation_register.write(request.generation, request.value);
    note_change(*registers, before);
    if (!reply.accepted) {
      TraceEvent("CoordinatorWriteRejected")
          .detail("Counter", request.generation.counter)
          .detail("PromisedCounter", reply.read_generation.counter);
    }
    state->actors.add(reply_when_saved(registers, registers->steps, request.reply, std::move(reply)));
  }
}

Future<Void> serve_forwards(CoordinatorState* state, FutureStream<ForwardRequest> requests) {
  while (true) {
    ForwardRequest request = co_await requests.next();
    ClusterRegisters* registers = registers_of(state, request.cluster_id);
    if (registers == nullptr || request.forward.empty()) {
      request.reply.send_error(Error(errc::client_invalid_operation));
      continue;
    }
    if (registers->forward().empty()) {
      GenerationRegisterState next = registers->generation_register.state();
      next.forward = request.forward;
      registers->generation_register = GenerationRegister(std::move(next));
      registers->changed.set(++registers->steps);
      TraceEvent("CoordinatorForwarded").detail("ClusterId", request.cluster_id).detail("Forward", request.forward);
    }
    state->actors.add(reply_when_saved(registers, registers->steps, request.reply, Void{}));
  }
}

Future<Void> serve_candidacies(CoordinatorState* state, FutureStream<CandidacyRequest> requests) {
  while (true) {
    CandidacyRequest request = co_await requests.next();
    ClusterRegisters* registers = usable_registers(state, request);
    if (registers == nullptr) continue;
    LeaderRegister& leaders = registers->leader_register;
    const std::optional<LeaderInfo> before = leaders.leader(now());
    CandidacyReply reply = leaders.candidacy(request.candidate, request.claim, now());
    const std::optional<LeaderInfo> after = leaders.leader(now());
    if (after && (!before || before->candidate_id != after->candidate_id)) {
      TraceEvent("CoordinatorLeaderCommitted").detail("Candidate", after->candidate_id).detail("Priority", after->priority);
    }
    request.reply.send(reply);
  }
}

// A query about an id this coordinator holds nothing for is answered "no leader" without
// creating registers for it: a client with a stale or foreign cluster file costs nothing.
Future<Void> serve_leader_queries(CoordinatorState* state, FutureStream<GetLeaderRequest> requests) {
  while (true) {
    GetLeaderRequest request = co_await requests.next();
    if (!valid_cluster_id(request.cluster_id)) {
      request.reply.send_error(Error(errc::client_invalid_operation));
      continue;
    }
    GetLeaderReply reply;
    auto it = state->clusters.find(request.cluster_id);
    if (it != state->clusters.end()) {
      reply.forward = it->second->forward();
      if (reply.forward.empty()) reply.leader = it->second->leader_register.leader(now());
    } else {
      for (const auto& [id, registers] : state->clusters) {
        if (registers->forward().empty()) reply.clusters_held.push_back(id);
      }
    }
    request.reply.send(reply);
  }
}

// Loads every id's register saved under the directory.
Future<Void> load_clusters(CoordinatorState* state) {
  IWorld& files = world();
  Future<Void> made = files.create_directories(state->directory);
  co_await made;
  std::vector<std::string> names = co_await files.list_directory(state->directory);
  for (const std::string& name : names) {
    if (!valid_cluster_id(name)) continue;
    GenerationRegisterState loaded = co_await load_register(state->directory + "/" + name);
    TraceEvent("CoordinatorLoaded")
        .detail("ClusterId", name)
        .detail("ReadCounter", loaded.read_generation.counter)
        .detail("WriteCounter", loaded.write_generation.counter)
        .detail("Forward", loaded.forward);
    add_cluster(state, name, std::move(loaded));
  }
  co_return Void{};
}

// Empties the probe when the role stops (however it stops).
struct ProbeGuard {
  CoordinatorProbe* probe;
  ~ProbeGuard() {
    if (probe != nullptr) *probe = CoordinatorProbe{};
  }
};

}  // namespace

Future<Void> run_coordinator(CoordinatorInterface coordinator, std::string directory, CoordinatorProbe* probe) {
  CoordinatorState state;
  state.directory = std::move(directory);
  state.started_at = now();
  ProbeGuard guard{probe};
  try {
    co_await load_clusters(&state);
  } catch (const Error& error) {
    TraceEvent(Severity::warn, "CoordinatorRecoveryFailed").detail("Error", error.describe());
    throw;
  }
  if (probe != nullptr) {
    CoordinatorState* pointer = &state;
    probe->leader = [pointer](const std::string& id, double at) -> std::optional<LeaderInfo> {
      auto it = pointer->clusters.find(id);
      if (it == pointer->clusters.end()) return std::nullopt;
      return it->second->leader_register.leader(at);
    };
  }
  TraceEvent("CoordinatorStarted").detail("Directory", state.directory).detail("Clusters", state.clusters.size());
  try {
    state.actors.add(serve_reads(&state, coordinator.read.requests()));
    state.actors.add(serve_writes(&state, coordinator.write.requests()));
    state.actors.add(serve_forwards(&state, coordinator.forward.requests()));
    state.actors.add(serve_candidacies(&state, coordinator.candidacy.requests()));
    state.actors.add(serve_leader_queries(&state, coordinator.get_leader.requests()));
    co_await state.actors.result();
  } catch (const Error& error) {
    TraceEvent(Severity::warn, "CoordinatorStopped").detail("Error", error.describe());
    throw;
  }
  co_return Void{};
}

}  // namespace keel

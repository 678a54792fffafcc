#include "server/coordinator/coordinator.h"

#include "runtime/combinators.h"
#include "runtime/notified.h"
#include "runtime/trace.h"
#include "server/coordinator/coordinator_knobs.h"
#include "server/coordinator/election.h"
#include "server/coordinator/register_file.h"

namespace keel {
namespace {

struct CoordinatorState {
  std::string directory;
  GenerationRegister generation_register;
  std::optional<LeaderRegister> leader_register;
  uint64_t steps = 0;                // register steps that changed the state
  NotifiedValue<uint64_t> changed{0};  // = steps, for the save loop to wait on
  NotifiedValue<uint64_t> saved{0};    // every step up to this one is durable
  GenerationRegisterState saved_state;
};

void note_change(CoordinatorState& state, const GenerationRegisterState& before) {
  if (state.generation_register.state() == before) return;
  state.changed.set(++state.steps);
}

// Saves the latest state whenever it changed; one save covers every step before it started.
Future<Void> save_loop(CoordinatorState* state) {
  while (true) {
    co_await state->changed.when_at_least(state->saved.get() + 1);
    const uint64_t target = state->steps;
    GenerationRegisterState snapshot = state->generation_register.state();
    Future<Void> saved = save_register(state->directory, snapshot);
    co_await saved;
    state->saved_state = std::move(snapshot);
    state->saved.set(target);
  }
}

template <class Reply>
Future<Void> reply_when_saved(CoordinatorState* state, uint64_t step, ReplyPromise<Reply> promise, Reply reply) {
  co_await state->saved.when_at_least(step);
  promise.send(reply);
  co_return Void{};
}

Future<Void> serve_reads(CoordinatorState* state, FutureStream<RegisterReadRequest> requests, ActorCollection* actors) {
  while (true) {
    RegisterReadRequest request = co_await requests.next();
    if (is_initial(request.generation)) {
      request.reply.send_error(Error(errc::client_invalid_operation));  // generation zero is "none"
      continue;
    }
    const GenerationRegisterState before = state->generation_register.state();
    RegisterReadReply reply = state->generation_register.read(request.generation);
    note_change(*state, before);
    actors->add(reply_when_saved(state, state->steps, request.reply, std::move(reply)));
  }
}

Future<Void> serve_writes(CoordinatorState* state, FutureStream<RegisterWriteRequest> requests, ActorCollection* actors) {
  while (true) {
    RegisterWriteRequest request = co_await requests.next();
    if (is_initial(request.generation) || request.value.size() > coordinated_value_bytes_max) {
      const bool too_large = request.value.size() > coordinated_value_bytes_max;
      request.reply.send_error(Error(too_large ? errc::value_too_large : errc::client_invalid_operation));
      continue;
    }
    const GenerationRegisterState before = state->generation_register.state();
    RegisterWriteReply reply = state->generation_register.write(request.generation, request.value);
    note_change(*state, before);
    if (!reply.accepted) {
      TraceEvent("CoordinatorWriteRejected")
          .detail("Counter", request.generation.counter)
          .detail("PromisedCounter", reply.read_generation.counter);
    }
    actors->add(reply_when_saved(state, state->steps, request.reply, std::move(reply)));
  }
}

Future<Void> serve_candidacies(CoordinatorState* state, FutureStream<CandidacyRequest> requests) {
  while (true) {
    CandidacyRequest request = co_await requests.next();
    const std::optional<LeaderInfo> before = state->leader_register->leader(now());
    CandidacyReply reply = state->leader_register->candidacy(request.candidate, request.claim, now());
    const std::optional<LeaderInfo> after = state->leader_register->leader(now());
    if (after && (!before || before->candidate_id != after->candidate_id)) {
      TraceEvent("CoordinatorLeaderCommitted").detail("Candidate", after->candidate_id).detail("Priority", after->priority);
    }
    request.reply.send(reply);
  }
}

Future<Void> serve_leader_queries(CoordinatorState* state, FutureStream<GetLeaderRequest> requests) {
  while (true) {
    GetLeaderRequest request = co_await requests.next();
    request.reply.send(GetLeaderReply{state->leader_register->leader(now())});
  }
}

// Empties the probe when the role stops (however it stops).
struct ProbeGuard {
  CoordinatorProbe* probe;
  ~ProbeGuard() {
    if (probe != nullptr) *probe = CoordinatorProbe{};
  }
};

Future<Void> coordinator_core(CoordinatorState* state, CoordinatorInterface coordinator) {
  ActorCollection actors;
  actors.add(save_loop(state));
  actors.add(serve_reads(state, coordinator.read.requests(), &actors));
  actors.add(serve_writes(state, coordinator.write.requests(), &actors));
  actors.add(serve_candidacies(state, coordinator.candidacy.requests()));
  actors.add(serve_leader_queries(state, coordinator.get_leader.requests()));
  co_await actors.result();
  co_return Void{};
}

}  // namespace

Future<Void> run_coordinator(CoordinatorInterface coordinator, std::string directory, CoordinatorProbe* probe) {
  CoordinatorState state;
  state.directory = std::move(directory);
  ProbeGuard guard{probe};
  try {
    GenerationRegisterState loaded = co_await load_register(state.directory);
    state.generation_register = GenerationRegister(loaded);
    state.saved_state = std::move(loaded);
  } catch (const Error& error) {
    TraceEvent(Severity::warn, "CoordinatorRecoveryFailed").detail("Error", error.describe());
    throw;
  }
  const CoordinatorKnobs& knobs = coordinator_knobs();
  state.leader_register.emplace(now(), ElectionTiming{knobs.leader_lease_seconds, knobs.candidate_timeout_seconds});
  if (probe != nullptr) {
    CoordinatorState* pointer = &state;
    probe->leader = [pointer](double at) { return pointer->leader_register->leader(at); };
    probe->durable_state = [pointer] { return pointer->saved_state; };
  }
  TraceEvent("CoordinatorStarted")
      .detail("Directory", state.directory)
      .detail("ReadCounter", state.saved_state.read_generation.counter)
      .detail("WriteCounter", state.saved_state.write_generation.counter);
  try {
    co_await coordinator_core(&state, coordinator);
  } catch (const Error& error) {
    TraceEvent(Severity::warn, "CoordinatorStopped").detail("Error", error.describe());
    throw;
  }
  co_return Void{};
}

}  // namespace keel

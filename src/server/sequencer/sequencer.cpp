#include "server/sequencer/sequencer.h"

#include <algorithm>

#include "protocol/limits.h"
#include "protocol/wait_failure.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"

namespace keel {
namespace {

struct SequencerState {
  uint64_t generation = 0;
  Version last_version = 0;       // the last version handed out (the chain's previous link)
  Version floor_version = 0;      // every version handed out is above this (the start version)
  Version live_committed = 0;     // the highest version reported durable
  Version base_version = 0;       // versions track time from here...
  double base_time = 0;           // ...and this moment
};

bool wrong_generation(const SequencerState& state, uint64_t generation) {
  return generation != 0 && generation != state.generation;
}

Version next_version(SequencerState& state) {
  const auto by_time = state.base_version + static_cast<Version>((now() - state.base_time) * versions_per_second);
  state.last_version = std::max({state.last_version + 1, state.floor_version + 1, by_time});
  return state.last_version;
}

Future<Void> serve_commit_versions(SequencerState* state, FutureStream<GetCommitVersionRequest> requests) {
  while (true) {
    GetCommitVersionRequest request = co_await requests.next();
    if (wrong_generation(*state, request.generation)) {
      request.reply.send_error(Error(errc::operation_failed));
      continue;
    }
    GetCommitVersionReply reply;
    reply.prev_version = state->last_version;
    reply.version = next_version(*state);
    reply.generation = state->generation;
    request.reply.send(reply);
  }
}

Future<Void> serve_reports(SequencerState* state, FutureStream<ReportCommittedRequest> requests) {
  while (true) {
    ReportCommittedRequest request = co_await requests.next();
    if (wrong_generation(*state, request.generation)) {
      request.reply.send_error(Error(errc::operation_failed));
      continue;
    }
    KEEL_ASSERT(request.version <= state->last_version);
    state->live_committed = std::max(state->live_committed, request.version);
    request.reply.send(Void{});
  }
}

Future<Void> serve_live_committed(SequencerState* state, FutureStream<GetLiveCommittedVersionRequest> requests) {
  while (true) {
    GetLiveCommittedVersionRequest request = co_await requests.next();
    if (wrong_generation(*state, request.generation)) {
      request.reply.send_error(Error(errc::operation_failed));
      continue;
    }
    request.reply.send(LiveCommittedVersionReply{state->live_committed});
  }
}

}  // namespace

Future<Void> run_sequencer(SequencerInterface sequencer, uint64_t generation, Version recovery_version,
                           Version start_version) {
  KEEL_ASSERT(recovery_version <= start_version);
  SequencerState state;
  state.generation = generation;
  state.last_version = recovery_version;
  state.floor_version = start_version;
  state.live_committed = recovery_version;
  state.base_version = start_version;
  state.base_time = now();
  TraceEvent("SequencerStarted")
      .detail("Generation", generation)
      .detail("RecoveryVersion", recovery_version)
      .detail("StartVersion", start_version);
  ActorCollection actors;
  actors.add(serve_commit_versions(&state, sequencer.get_commit_version.requests()));
  actors.add(serve_reports(&state, sequencer.report_committed.requests()));
  actors.add(serve_live_committed(&state, sequencer.get_live_committed_version.requests()));
  actors.add(serve_wait_failure(sequencer.wait_failure.requests()));
  co_await actors.result();
  co_return Void{};
}

}  // namespace keel

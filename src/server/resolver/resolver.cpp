#include "server/resolver/resolver.h"

#include <map>

#include "protocol/wait_failure.h"
#include "runtime/combinators.h"
#include "runtime/random.h"
#include "runtime/trace.h"
#include "server/resolver/conflict_set.h"

namespace keel {
namespace {

struct ResolverState {
  ResolverState(uint64_t generation, Version recovery_version)
      : generation(generation),
        last_version(recovery_version),
        conflicts(recovery_version, deterministic_random().next_u64()) {}

  uint64_t generation = 0;
  Version last_version = 0;  // the last batch resolved (the recovery version before the first)
  ConflictSet conflicts;
  std::map<Version, ResolveRequest> waiting;  // by prev_version, each above last_version
  bool recording_held_writes = false;         // record_held_writes_later is waiting to run
};

// Takes the transactions' ranges: the request is done with them.
std::vector<ConflictTransaction> to_conflict_batch(std::vector<ResolveTransaction>& transactions) {
  std::vector<ConflictTransaction> batch;
  batch.reserve(transactions.size());
  for (ResolveTransaction& transaction : transactions) {
    batch.push_back(ConflictTransaction{transaction.read_version, std::move(transaction.reads), std::move(transaction.writes)});
  }
  return batch;
}

ResolveReply resolve_batch(ConflictSet& conflicts, ResolveRequest& request) {
  const std::vector<ConflictOutcome> outcomes = conflicts.resolve(request.version, to_conflict_batch(request.transactions));
  ResolveReply reply;
  reply.outcomes.reserve(outcomes.size());
  for (ConflictOutcome outcome : outcomes) reply.outcomes.push_back(static_cast<ResolveOutcome>(outcome));
  return reply;
}

// Whether `request` can take its place in this generation's chain: a request of another
// generation, one whose predecessor was already resolved, or a second one with the same
// predecessor never could.
bool fits_chain(const ResolverState& state, const ResolveRequest& request) {
  return request.generation == state.generation && request.prev_version >= state.last_version &&
         request.prev_version < request.version && !state.waiting.contains(request.prev_version);
}

// Records the writes the last batch's resolve held (conflict_set.h) once the work its answer
// started has run: the proxy's push to the logs goes first. A batch resolved meanwhile records
// them itself, first.
Future<Void> record_held_writes_later(ResolverState* state) {
  co_await yield(priority::low);
  state->recording_held_writes = false;
  state->conflicts.record_held_writes();
  co_return Void{};
}

// Resolves every waiting batch whose predecessor has been resolved, in chain order.
void resolve_ready_batches(ResolverState& state, ActorCollection& actors) {
  for (auto it = state.waiting.find(state.last_version); it != state.waiting.end();
       it = state.waiting.find(state.last_version)) {
    ResolveRequest ready = std::move(it->second);
    state.waiting.erase(it);
    ready.reply.send(resolve_batch(state.conflicts, ready));
    state.last_version = ready.version;
    if (state.conflicts.holds_writes() && !state.recording_held_writes) {
      state.recording_held_writes = true;
      actors.add(record_held_writes_later(&state));
    }
  }
}

Future<Void> serve_resolves(ResolverState* state, FutureStream<ResolveRequest> requests, ActorCollection* actors) {
  while (true) {
    ResolveRequest request = co_await requests.next();
    if (!fits_chain(*state, request)) {
      TraceEvent(Severity::warn, "ResolverBatchRejected")
          .detail("Generation", state->generation)
          .detail("RequestGeneration", request.generation)
          .detail("PrevVersion", request.prev_version)
          .detail("Version", request.version)
          .detail("LastVersion", state->last_version)
          .suppress_for(1);
      request.reply.send_error(Error(errc::operation_failed));
      continue;
    }
    const Version prev_version = request.prev_version;
    state->waiting.emplace(prev_version, std::move(request));
    resolve_ready_batches(*state, *actors);
  }
}

}  // namespace

Future<Void> run_resolver(ResolverInterface resolver, uint64_t generation, Version recovery_version) {
  ResolverState state(generation, recovery_version);
  TraceEvent("ResolverStarted").detail("Generation", generation).detail("RecoveryVersion", recovery_version);
  ActorCollection actors;
  actors.add(serve_resolves(&state, resolver.resolve.requests(), &actors));
  actors.add(serve_wait_failure(resolver.wait_failure.requests()));
  co_await actors.result();
  co_return Void{};
}

}  // namespace keel

#include "server/resolver/resolver.h"

#include <map>
#include <memory>

#include "runtime/random.h"
#include "runtime/trace.h"
#include "server/resolver/conflict_set.h"

namespace keel {
namespace {

std::vector<ConflictTransaction> to_conflict_batch(const std::vector<ResolveTransaction>& transactions) {
  std::vector<ConflictTransaction> batch;
  batch.reserve(transactions.size());
  for (const ResolveTransaction& transaction : transactions) {
    batch.push_back(ConflictTransaction{transaction.read_version, transaction.reads, transaction.writes});
  }
  return batch;
}

ResolveReply resolve_batch(ConflictSet& conflicts, const ResolveRequest& request) {
  const std::vector<ConflictOutcome> outcomes = conflicts.resolve(request.version, to_conflict_batch(request.transactions));
  ResolveReply reply;
  reply.outcomes.reserve(outcomes.size());
  for (ConflictOutcome outcome : outcomes) reply.outcomes.push_back(static_cast<ResolveOutcome>(outcome));
  return reply;
}

}  // namespace

Future<Void> run_resolver(ResolverInterface resolver) {
  uint64_t generation = 0;
  std::unique_ptr<ConflictSet> conflicts;
  Version last_version = 0;
  std::map<Version, ResolveRequest> waiting;  // by prev_version
  FutureStream<ResolveRequest> requests = resolver.resolve.requests();
  while (true) {
    ResolveRequest request = co_await requests.next();
    if (request.generation < generation) {
      request.reply.send_error(Error(errc::operation_failed));
      continue;
    }
    if (request.generation > generation) {
      generation = request.generation;
      last_version = request.prev_version;
      conflicts = std::make_unique<ConflictSet>(last_version, deterministic_random().next_u64());
      waiting.clear();
      TraceEvent("ResolverGenerationStarted").detail("Generation", generation).detail("RecoveryVersion", last_version);
    }
    waiting.emplace(request.prev_version, std::move(request));
    for (auto it = waiting.find(last_version); it != waiting.end(); it = waiting.find(last_version)) {
      ResolveRequest ready = std::move(it->second);
      waiting.erase(it);
      ready.reply.send(resolve_batch(*conflicts, ready));
      last_version = ready.version;
    }
  }
}

}  // namespace keel

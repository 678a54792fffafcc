// The resolver role of one generation: conflict detection for one key range (see
// conflict_set.h), batch by batch in version order.
//
// Recruited by the cluster controller (InitializeResolverRequest) with the generation and its
// recovery version RV. The generation's chain starts at RV: the first batch resolved is the one
// whose prev_version is RV, and each later one the batch whose prev_version is the version just
// resolved. Batches arrive in any order; each waits until its prev_version was resolved.
// Transactions reading below RV are too old (nothing of an older generation is remembered).
// Requests of another generation fail with operation_failed, as do batches that could never
// be reached in the chain (prev_version already resolved, or a second batch with the same
// prev_version). The role serves `wait_failure` so the controller notices when it ends.
#pragma once

#include "protocol/resolver_interface.h"
#include "protocol/types.h"
#include "runtime/future.h"

namespace keel {

// Serves `resolver` for `generation` until cancelled.
Future<Void> run_resolver(ResolverInterface resolver, uint64_t generation, Version recovery_version);

}  // namespace keel

// The resolver role: conflict detection for one key range (see conflict_set.h), batch by batch in
// version order. Batches arrive in any order; each waits until its prev_version was resolved.
// The first batch of a newer generation starts afresh at its prev_version (the recovery version):
// transactions reading below it are too old.
#pragma once

#include "protocol/resolver_interface.h"
#include "runtime/future.h"

namespace keel {

// Serves `resolver` until cancelled.
Future<Void> run_resolver(ResolverInterface resolver);

}  // namespace keel

// The sequencer of one generation: hands out commit versions and tracks the live committed
// version.
//
// Recruited by the cluster controller (InitializeSequencerRequest) with the generation's
// recovery version RV and a start version far above anything an older generation handed out.
// The generation's chain starts at RV: the first reply's prev_version is RV, and each later
// reply's prev_version is the version handed out before it, so the batches of a generation form
// one chain that resolvers and logs process strictly in order. Versions handed out are above
// the start version and advance about versions_per_second per second of time from it (and at
// least by one per batch). The live committed version starts at RV and is the highest version
// a proxy reported durable since; GRV answers never go below it.
//
// Requests naming another generation (0 means "the current one") fail with operation_failed.
// The role serves `wait_failure` so the controller notices when it ends.
#pragma once

#include "protocol/sequencer_interface.h"
#include "runtime/future.h"

namespace keel {

// Serves `sequencer` for `generation` until cancelled. Requires recovery_version <= start_version.
Future<Void> run_sequencer(SequencerInterface sequencer, uint64_t generation, Version recovery_version,
                           Version start_version);

}  // namespace keel

// The sequencer: hands out commit versions and tracks the live committed version.
//
// Versions advance about versions_per_second per second of time (and at least by one per batch);
// each reply carries the previous version handed out, so the batches of a generation form one
// chain. The live committed version is the highest version a proxy reported durable; GRV
// answers never go below it.
#pragma once

#include "protocol/sequencer_interface.h"
#include "runtime/future.h"

namespace keel {

// Serves `sequencer` for `generation` until cancelled. The generation's chain starts at
// `recovery_version` (the first batch's prev_version: the last version every log holds); its
// versions start above `highest_version` (anything any log may hold, so no version repeats).
Future<Void> run_sequencer(SequencerInterface sequencer, uint64_t generation, Version recovery_version,
                           Version highest_version);

}  // namespace keel

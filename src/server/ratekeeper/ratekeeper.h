// The ratekeeper of one generation: admission control.
//
// Recruited by the cluster controller (InitializeRatekeeperRequest) with every generation,
// before its proxies, which find it in their ServerDBInfo. Every ratekeeper_poll_seconds it
// asks each storage server the configuration names for its status (its MVCC window, its
// versions and the bytes its engine took), and the sequencer for the live committed version (how
// far behind each server's pulling is), and recomputes the cluster's transaction rate with RateModel
// (rate_model.h). Proxies ask for the rate a few times a second, reporting the transactions they
// released; the rate is shared among the proxies that asked within the last second.
// `status` shows the limit and what sets it. The role serves `wait_failure`: like any role of
// the generation, its failure ends the generation.
#pragma once

#include "protocol/cluster_config.h"
#include "protocol/ratekeeper_interface.h"
#include "protocol/sequencer_interface.h"
#include "runtime/future.h"

namespace keel {

Future<Void> run_ratekeeper(RatekeeperInterface interface, ClusterConfig cluster, uint64_t generation,
                           SequencerInterface sequencer);

}  // namespace keel

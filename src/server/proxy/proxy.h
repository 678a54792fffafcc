// The proxy of one generation: read versions and commits for clients, shard locations for
// their caches.
//
// Recruited by the cluster controller (InitializeProxyRequest) with the generation's
// ServerDBInfo, which names its sequencer, its resolvers with their key ranges, and its logs;
// the ClusterConfig gives storage placement (storage servers are found by address and index). Every request to a role of the generation carries the
// generation.
//
// GRV: requests are batched; each batch asks the sequencer for the live committed version (so
// an answer is never older than an acknowledged commit) and, in parallel, asks every log of
// the generation to confirm it still accepts pushes (`confirm_running`). Only when all succeed
// is the batch answered: a recovery locks at least one log before a newer generation commits
// anything, so a proxy cut off from the recovery never hands out a read version that misses a
// newer commit. Otherwise the batch gets the error (tlog_stopped, retryable) and the proxy
// ends with it.
// Commit: requests are batched; each batch gets (version, prev_version) from the sequencer, is
// resolved by every resolver (each sees the conflict ranges within its key range), has its
// committed mutations tagged with the storage servers that own their keys, is pushed whole to
// every log (each holds every tag), and is reported to the sequencer before any client hears
// back. Batches pipeline: the next one starts as soon as the previous one got its version. A
// failed push (tlog_stopped once a recovery locked the log) answers the batch's committed
// transactions commit_unknown_result, the others not_committed, and ends the proxy; so does
// the proxy ending under a batch in flight.
// Shard map: the generation's (ServerDBInfo.shards, from the core state). A mutation goes to
// its shard's team and, while the shard moves, to the team it moves to; location replies name
// the team only (the servers that serve reads). Proxy 0 commits the generation's first
// transaction (\xff/lastStart = the generation).
// Admission control: a proxy starts transactions (read-version batches, and blind commits,
// which start without a read version) at the rate the generation's ratekeeper gives it, asking
// every proxy_rate_update_seconds and reporting what it released (server/proxy/admission.h).
// The proxy serves `wait_failure` so the controller notices when it ends.
#pragma once

#include "protocol/cluster_config.h"
#include "protocol/proxy_interface.h"
#include "protocol/server_db_info.h"
#include "runtime/future.h"

namespace keel {

// Serves `interface` as proxy `index` of the generation `info` describes, until cancelled or
// its generation is over (then it fails with the error that showed it).
Future<Void> run_proxy(ProxyInterface interface, ClusterConfig cluster, int index, ServerDBInfo info);

}  // namespace keel

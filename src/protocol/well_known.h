// Endpoints of the database roles.
//
// Well-known tokens: a storage server is found from the address of its process and its index
// there, a coordinator from its address, and a log from its id (so a log restarted from disk
// is found again; ids are drawn by new_tlog_id()). `*_at(...)` builds a client handle,
// `serve_*(...)` registers the streams in the current process.
//
// Every other role is recruited: `serve_new_*()` registers its streams at random tokens, and
// others learn its interface from the cluster controller (ServerDBInfo, LeaderDescription).
#pragma once

#include "protocol/cluster_config.h"
#include "protocol/cluster_controller_interface.h"
#include "protocol/cluster_file.h"
#include "protocol/coordinator_interface.h"
#include "protocol/proxy_interface.h"
#include "protocol/ratekeeper_interface.h"
#include "protocol/resolver_interface.h"
#include "protocol/sequencer_interface.h"
#include "protocol/storage_interface.h"
#include "protocol/tlog_interface.h"
#include "protocol/worker_interface.h"
#include "runtime/random.h"

namespace keel {

namespace role_token {
inline constexpr uint64_t coordinator = 0x1f00;  // one per process
inline constexpr uint64_t storage = 0x2000;
inline constexpr uint64_t stride = 16;  // tokens per role instance
}  // namespace role_token

// A fresh log id: its low bits are free for the log's stream tokens and it never collides
// with the other well-known tokens.
uint64_t new_tlog_id(DeterministicRandom& random);

TLogInterface tlog_at(NetworkAddress address, uint64_t id);
TLogInterface serve_tlog(uint64_t id);
StorageServerInterface storage_at(NetworkAddress address, int index, Tag tag);
StorageServerInterface serve_storage(int index, Tag tag);
// The status of the storage server at `location`, or an entry marked unreachable (tag and
// address only) when it does not answer within `timeout_seconds`.
Future<StorageServerStatus> ask_storage_status(StorageLocation location, double timeout_seconds);
// The sequencer's live committed version, or 0 when it does not answer within `timeout_seconds`.
Future<Version> ask_live_committed_version(SequencerInterface sequencer, double timeout_seconds);
CoordinatorInterface coordinator_at(NetworkAddress address);
CoordinatorInterface serve_coordinator();
// The coordinators a connection string names.
CoordinatorSet coordinator_set(const ClusterConnectionString& connection);

SequencerInterface serve_new_sequencer();
ProxyInterface serve_new_proxy();
ResolverInterface serve_new_resolver();
RatekeeperInterface serve_new_ratekeeper();
WorkerInterface serve_new_worker();
ClusterControllerInterface serve_new_cluster_controller();

}  // namespace keel

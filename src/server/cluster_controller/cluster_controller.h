// The cluster controller: elected through the coordinators, it keeps the register of workers,
// runs every recovery (docs/fault_tolerance.md, "Recovery as built"), publishes the
// generation's ServerDBInfo to the workers and its proxies to clients, and answers status.
//
// It runs for as long as its process holds the leadership: the worker races it against the
// candidate's lease and cancels it when the lease is lost. Safety never rests on that: a
// recovery writes the core state with a generation check (CoordinatedState), so a deposed
// controller's recovery fails with coordinated_state_conflict, and the logs it locked stay
// locked.
#pragma once

#include <map>
#include <memory>

#include "protocol/cluster_config.h"
#include "protocol/cluster_controller_interface.h"
#include "runtime/future.h"
#include "server/coordinator/leader_election.h"

namespace keel {

// What a process's distributor saw of the storage servers' reachability, kept across its
// tenures as controller (the worker owns it). Clogged links to the coordinators can end a
// leadership every few seconds and hand it back to the same process; without this each tenure
// would count a down server's time towards dead from zero, and none might reach it.
struct ReachabilityMemory {
  std::map<Tag, double> last_reachable;  // when the server last answered (or the count started)
  double watched_until = -1;             // when the last tenure's watch ended (< 0: never watched)
};

// Serves `controller` until cancelled; publishes through `candidate` (which must outlive it),
// elected through the coordinators `connection` names. Throws coordinators_changed once it
// moved the cluster to new coordinators (`connection` then names them). `reachability` is the
// process's memory of the storage servers across its tenures (above).
Future<Void> run_cluster_controller(ClusterControllerInterface controller, ClusterConfig cluster,
                                    std::shared_ptr<ClusterConnection> connection, LeaderCandidate* candidate,
                                    ReachabilityMemory* reachability);

}  // namespace keel

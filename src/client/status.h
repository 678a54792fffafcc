// Asks the cluster's elected controller (found through the coordinators) for the cluster
// status: generation and recovery, roles, versions, storage servers, workers. Waits while no
// controller is elected; fails (retryably) when the controller it found does not answer.
#pragma once

#include "client/database.h"
#include "protocol/status.h"

namespace keel {

Future<ClusterStatus> get_cluster_status(Database database);

}  // namespace keel

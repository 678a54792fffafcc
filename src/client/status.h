// Asks the cluster's coordinator for the cluster status (roles, versions, storage servers).
#pragma once

#include "client/database.h"
#include "protocol/status.h"

namespace keel {

Future<ClusterStatus> get_cluster_status(const Database& database);

}  // namespace keel

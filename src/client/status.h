// Requests to the cluster's elected controller (found through the coordinators): the cluster
// status (generation and recovery, roles, versions, storage servers, workers), and changing the
// settings or the coordinators. Each waits while no controller is elected and fails (retryably) when the
// controller it found does not answer.
#pragma once

#include "client/database.h"
#include "protocol/cluster_controller_interface.h"
#include "protocol/cluster_file.h"
#include "protocol/status.h"

namespace keel {

Future<ClusterStatus> get_cluster_status(Database database);

// Asks the elected controller to move the cluster to new coordinators (`coordinators`, or with
// `automatic` a set it chooses), and follows them: the database's cluster file, if it has one,
// is rewritten. Returns the new connection string. Fails with coordinators_invalid,
// coordinators_unreachable, or retryably when the controller did not answer.
// Asks the elected controller to change the cluster's settings (`keel cli configure`, `exclude`,
// `include`; the request's reply field is unused) and returns the settings after the change.
Future<ClusterSettings> change_settings(Database database, ChangeSettingsRequest request);

Future<ClusterConnectionString> change_coordinators(Database database, std::vector<NetworkAddress> coordinators,
                                                    bool automatic);

}  // namespace keel

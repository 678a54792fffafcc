// Why a cluster file's coordinators do not answer as its cluster. A client that times out only
// knows that nothing answered; the probe asks each coordinator directly and names what it finds:
// nothing listening, a Redis-protocol (RESP) port, a keel server of another protocol version,
// or coordinators that serve another cluster id (a cluster file of another cluster). Used by
// `keel cli` after a command timed out and by `keel bench db` when a cluster does not answer.
#pragma once

#include <string>
#include <vector>

#include "protocol/cluster_file.h"
#include "runtime/future.h"

namespace keel {

// One sentence per coordinator with a definite problem, joined by "; ", or "" when each answers
// as a coordinator of this cluster (or does not answer in time; the probe takes at most about
// three seconds).
Future<std::string> probe_coordinators(ClusterConnectionString connection);

// The same, one entry per coordinator of `connection` (in its order): "" for one that answers
// as a coordinator of this cluster (or does not answer in time).
Future<std::vector<std::string>> coordinator_problems(ClusterConnectionString connection);

}  // namespace keel

#include "client/status.h"

#include "client/database_state.h"
#include "protocol/well_known.h"

namespace keel {

Future<ClusterStatus> get_cluster_status(const Database& database) {
  GetClusterStatusRequest request;
  return cluster_status_at(database.state()->coordinator).get_reply(request);
}

}  // namespace keel

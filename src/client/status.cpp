#include "client/status.h"

#include "client/database_state.h"

namespace keel {

Future<ClusterStatus> get_cluster_status(Database database) {
  Future<LeaderDescription> found = database.state()->leader();
  const LeaderDescription leader = co_await found;
  GetClusterStatusRequest request;
  Future<ClusterStatus> status = leader.controller.get_status.get_reply(request);
  co_return co_await status;
}

}  // namespace keel

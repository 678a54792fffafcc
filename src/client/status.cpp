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

Future<ClusterSettings> change_settings(Database database, ChangeSettingsRequest request) {
  Future<LeaderDescription> found = database.state()->leader();
  const LeaderDescription leader = co_await found;
  Future<ClusterSettings> changed = leader.controller.change_settings.get_reply(request);
  co_return co_await changed;
}

Future<ClusterConnectionString> change_coordinators(Database database, std::vector<NetworkAddress> coordinators,
                                                    bool automatic) {
  Future<LeaderDescription> found = database.state()->leader();
  const LeaderDescription leader = co_await found;
  ChangeCoordinatorsRequest request;
  request.coordinators = std::move(coordinators);
  request.automatic = automatic;
  Future<std::string> changed = leader.controller.change_coordinators.get_reply(request);
  const std::string forward = co_await changed;
  Future<Void> followed = database.state()->connection->follow(forward);
  co_await followed;
  co_return database.state()->connection->get();
}

}  // namespace keel

#include "client/database.h"

#include "client/database_state.h"
#include "protocol/cluster_file.h"
#include "runtime/assert.h"
#include "world/world.h"

namespace keel {

Database::Database(std::shared_ptr<ClusterConnection> connection)
    : state_(std::make_shared<DatabaseState>(std::move(connection))) {
  KEEL_ASSERT(!state_->connection->get().coordinators.empty());
}

Database::Database(std::vector<NetworkAddress> coordinators)
    : Database(std::make_shared<ClusterConnection>(
          ClusterConnectionString{default_cluster_id(coordinators), coordinators})) {}

Database::Database(NetworkAddress coordinator) : Database(std::vector<NetworkAddress>{coordinator}) {}

Future<Database> Database::open(std::string cluster_file) {
  IWorld& files = world();
  std::shared_ptr<IFile> file;
  try {
    file = co_await files.open_file(cluster_file, open_flags::read_only);
  } catch (const Error& error) {
    if (error.code() == errc::file_not_found) throw Error(errc::no_cluster_file_found);
    throw;
  }
  std::string contents = co_await file->read(0, 4096);
  co_return Database(std::make_shared<ClusterConnection>(parse_connection_string(contents), cluster_file));
}

}  // namespace keel

#include "client/database.h"

#include "client/cluster_file.h"
#include "client/database_state.h"
#include "runtime/assert.h"
#include "world/world.h"

namespace keel {

Database::Database(std::vector<NetworkAddress> coordinators)
    : state_(std::make_shared<DatabaseState>(std::move(coordinators))) {
  KEEL_ASSERT(!state_->coordinators.empty());
}

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
  co_return Database(parse_connection_string(contents).coordinators);
}

}  // namespace keel

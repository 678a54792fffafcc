#include "client/database.h"

#include <fmt/format.h>

#include "client/database_state.h"
#include "world/world.h"

namespace keel {
namespace {

// A cluster file holds one line: keel:<cluster id>@<coordinator address>.
NetworkAddress parse_cluster_file(const std::string& contents) {
  std::string line = contents.substr(0, contents.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  const size_t at = line.find('@');
  if (line.rfind("keel:", 0) != 0 || at == std::string::npos) throw Error(errc::connection_string_invalid);
  try {
    return NetworkAddress::parse(line.substr(at + 1));
  } catch (const Error&) {
    throw Error(errc::connection_string_invalid);
  }
}

}  // namespace

Database::Database(NetworkAddress coordinator) : state_(std::make_shared<DatabaseState>(coordinator)) {}

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
  co_return Database(parse_cluster_file(contents));
}

}  // namespace keel

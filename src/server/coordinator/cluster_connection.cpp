#include "server/coordinator/cluster_connection.h"

#include <filesystem>

#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "world/world.h"

namespace keel {

Future<Void> save_cluster_file(std::string path, ClusterConnectionString connection) {
  IWorld& files = world();
  const std::string staging = path + ".new";
  std::shared_ptr<IFile> file = co_await files.open_file(staging, open_flags::read_write | open_flags::create);
  co_await file->truncate(0);
  co_await file->write(0, format_connection_string(connection) + "\n");
  co_await file->sync();
  Future<Void> renamed = files.rename_file(staging, path);
  co_await renamed;
  co_return Void{};
}

Future<std::shared_ptr<ClusterConnection>> open_server_connection(std::string path,
                                                                  std::vector<NetworkAddress> configured) {
  IWorld& files = world();
  ClusterConnectionString connection;
  if (co_await files.file_exists(path)) {
    std::shared_ptr<IFile> file = co_await files.open_file(path, open_flags::read_only);
    const int64_t size = co_await file->size();
    const std::string contents = co_await file->read(0, size);
    try {
      connection = parse_connection_string(contents);
    } catch (const Error& error) {
      TraceEvent(Severity::error, "ClusterConnectionFileInvalid").detail("File", path).error(error);
      throw;
    }
  } else {
    connection.id = default_cluster_id(configured);
    connection.coordinators = std::move(configured);
    // Saved now, so the directory stays bound to this cluster: a later start with another
    // configuration finds the cluster its data belongs to, not a new empty one.
    const std::string directory = std::filesystem::path(path).parent_path().string();
    if (!directory.empty()) {
      Future<Void> made = files.create_directories(directory);
      co_await made;
    }
    Future<Void> saved = save_cluster_file(path, connection);
    co_await saved;
  }
  co_return std::make_shared<ClusterConnection>(std::move(connection), std::move(path));
}

Future<Void> ClusterConnection::follow(std::string forward) {
  ClusterConnectionString next;
  try {
    next = parse_connection_string(forward);
  } catch (const Error& error) {
    TraceEvent(Severity::warn_always, "ClusterConnectionForwardInvalid").detail("Forward", forward).error(error);
    co_return Void{};
  }
  if (next == current_.get()) co_return Void{};
  TraceEvent(Severity::warn_always, "ClusterConnectionChanged")
      .detail("From", format_connection_string(current_.get()))
      .detail("To", forward)
      .detail("File", file_);
  current_.set(next);
  if (file_.empty()) co_return Void{};
  Future<Void> saved = save_cluster_file(file_, next);
  co_await ready(saved);
  if (saved.is_error()) {
    TraceEvent(Severity::warn_always, "ClusterFileSaveFailed").detail("File", file_).error(saved.error());
  }
  co_return Void{};
}

}  // namespace keel

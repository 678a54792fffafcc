// ClusterConnection: where one process finds its cluster's coordinators. It starts from a
// connection string (a cluster file's, or the one a server derives from its configuration) and
// follows the coordinators when they forward it to a new set (after `keel cli coordinators`;
// docs/coordination.md, "Changing the coordinators"). When a file backs it, each new string is
// saved there (written aside, synced, renamed over), so the process and anyone using the file
// find the new set after a restart even if the old set is gone by then.
//
// Shared (std::shared_ptr) by everything of the process that asks the coordinators; watchers
// restart what they do with the set on on_change().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "protocol/cluster_file.h"
#include "runtime/async_var.h"
#include "runtime/future.h"

namespace keel {

class ClusterConnection {
 public:
  explicit ClusterConnection(ClusterConnectionString initial, std::string file = {})
      : current_(std::move(initial)), file_(std::move(file)) {}

  const ClusterConnectionString& get() const { return current_.get(); }
  Future<Void> on_change() const { return current_.on_change(); }
  const std::string& file() const { return file_; }

  // Adopts `forward` (a connection string the current set forwarded to) unless it is the current
  // one, and saves it to the file. A forward that does not parse is traced and ignored; a failed
  // save is traced (the process still follows the new set; the file keeps the old one, whose
  // coordinators forward again).
  Future<Void> follow(std::string forward);

 private:
  AsyncVar<ClusterConnectionString> current_;
  std::string file_;
};

// A server's connection: the string saved at `path` by an earlier run (the latest set it
// followed), else its configuration's first set (`configured`, with default_cluster_id), which
// is saved there at once: from its first start a data directory belongs to one cluster. Backed
// by `path`. A saved string that does not parse fails with connection_string_invalid.
Future<std::shared_ptr<ClusterConnection>> open_server_connection(std::string path,
                                                                  std::vector<NetworkAddress> configured);

// Writes `connection` as the cluster file at `path` (aside, synced, renamed over the old one).
Future<Void> save_cluster_file(std::string path, ClusterConnectionString connection);

}  // namespace keel

// The static cluster configuration file (TOML) of `keel server --config`: which process runs
// which roles. Every process of the cluster is started with the same file and its own --listen.
//
//   [[process]]
//   address = "127.0.0.1:4500"
//   roles = ["sequencer", "proxy", "resolver", "tlog"]   # any of these and "storage"
//   [[process]]
//   address = "127.0.0.1:4501"
//   roles = ["storage"]
//   storage_servers = 2        # storage servers in this process (default 1)
//   [shards]
//   count = 4                  # user-key shards, spread round-robin over the storage servers
//
// Exactly one process has "sequencer"; it is the coordinator clients find in the cluster file.
#pragma once

#include <string>

#include "protocol/cluster_config.h"

namespace keel::cmd {

struct ConfigError {
  std::string message;
};

// Throws ConfigError naming the problem.
ClusterConfig parse_static_config(const std::string& toml_text, const std::string& path);

}  // namespace keel::cmd

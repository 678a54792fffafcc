// The static cluster configuration file (TOML) of `keel server --config`: the coordinators,
// which processes may host transaction roles and how many of each a generation has, and which
// processes host storage servers. Every process of the cluster is started with the same file
// and its own --listen.
//
//   coordinators = ["127.0.0.1:4500", "127.0.0.1:4501", "127.0.0.1:4502"]  # optional
//   replication = "double"     # "single" (default), "double" or "triple": storage servers per shard
//   [[process]]
//   address = "127.0.0.1:4500"
//   roles = ["sequencer", "proxy", "resolver", "tlog"]   # any of these and "storage"
//   [[process]]
//   address = "127.0.0.1:4501"
//   roles = ["storage"]
//   storage_servers = 2        # storage servers in this process (default 1; storage role only)
//   zone = "rack1"             # optional failure domain (default: the address)
//   [shards]
//   count = 4                  # user-key shards (default 4), round-robin over the storage servers
//
// Replication: every shard lives on k storage servers (single 1, double 2, triple 3) in
// distinct zones; k larger than the number of zones hosting storage servers is an error. The
// teams are a pure function of the file (protocol/cluster_config.h assign_shards), so every
// restart with the same file finds the same shard map.
//
// Coordinators: addresses of listed processes, an odd number up to 5, no address twice; by
// default the first process listed that has a transaction role. The first coordinator writes
// the cluster file (protocol/cluster_file.h), which names them all.
//
// Transaction roles (sequencer, proxy, resolver, tlog) do not pin a role to a process: the
// cluster controller recruits each generation's roles onto live processes that may host them.
// A process listing any transaction role may host any of them (process class "unset"); one
// listing only "storage" hosts only its storage servers (class "storage"). The counts set the
// generation's shape: one proxy per process listing "proxy", one log per process listing
// "tlog", and as many resolvers, splitting the keyspace by first byte, as processes list
// "resolver" (at least one each). Storage servers stay where the file puts them.
#pragma once

#include <map>
#include <string>

#include "protocol/cluster_config.h"
#include "world/network_address.h"

namespace keel::cmd {

struct ConfigError {
  std::string message;
};

struct StaticConfig {
  ClusterConfig cluster;
  // The process class of every listed process: "storage" (only the storage role) or "unset".
  std::map<NetworkAddress, std::string> process_classes;
};

// Throws ConfigError naming the problem (`path` prefixes the message).
StaticConfig parse_static_config(const std::string& toml_text, const std::string& path);

}  // namespace keel::cmd

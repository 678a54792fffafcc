// What the cluster controller tells every process about the current generation (ServerDBInfo),
// what it tells clients (ClusterDescription, in proxy_interface.h, through the coordinators'
// leader description), and the core state recoveries keep in the coordinators.
#pragma once

#include <string>
#include <vector>

#include "protocol/cluster_config.h"
#include "protocol/proxy_interface.h"
#include "protocol/ratekeeper_interface.h"
#include "protocol/resolver_interface.h"
#include "protocol/sequencer_interface.h"
#include "protocol/tlog_interface.h"
#include "world/network_address.h"

namespace keel {

// The steps of a recovery, in order; numbers are on the wire.
enum class RecoveryState : uint8_t {
  reading_core_state = 0,
  locking_old_logs = 1,
  recruiting = 2,
  writing_core_state = 3,
  accepting_commits = 4,  // the new generation is live
};

const char* recovery_state_name(RecoveryState state);

// A log of the generation the core state names: enough to find it again after its process
// restarts (the worker serves a log it finds on disk at the tokens its id gives).
struct TLogRef {
  NetworkAddress address;
  uint64_t id = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(address, id);
  }
};

// The coordinated state: the last generation whose logs may hold acknowledged commits.
// What `keel cli configure`, `exclude` and `include` changed on top of the configuration file.
// Kept in the core state, so every recovery applies them and every controller knows them.
struct ClusterSettings {
  int32_t tlogs = 0;  // per generation; 0: the configuration file's count
  int32_t proxies = 0;
  int32_t resolvers = 0;
  // Processes no transaction role is recruited to, and data distribution moves shards off.
  std::vector<NetworkAddress> excluded;
  int32_t storage_replicas = 0;  // servers per shard; 0: the configuration file's
  bool operator==(const ClusterSettings&) const = default;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(tlogs, proxies, resolvers, excluded, storage_replicas);
  }
};

struct CoreState {
  uint64_t generation = 0;
  std::vector<TLogRef> tlogs;  // empty before the first recovery
  // While the core state moves to a new coordinator set: the new set's connection string. A
  // recovery that reads it finishes the move first (docs/coordination.md).
  std::string moving_to;
  ClusterSettings settings;
  // The shard map (sorted, partitioning the keyspace): seeded from the configuration file by
  // the first recovery, changed only by data distribution (empty before the first recovery).
  std::vector<ShardAssignment> shards;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(generation, tlogs, moving_to, settings, shards);
  }
};

struct ServerDBInfo {
  uint64_t id = 0;  // changes with every publication (0: nothing known yet)
  uint64_t generation = 0;
  RecoveryState recovery_state = RecoveryState::reading_core_state;
  Version recovery_version = 0;  // storage servers roll back above it
  double recovery_seconds = 0;   // how long the last recovery took (its start to accepting commits)
  SequencerInterface sequencer;
  std::vector<ProxyInterface> proxies;
  std::vector<ResolverInterface> resolvers;
  std::vector<KeyRange> resolver_ranges;  // partitioning ["", keyspace_end), one per resolver
  std::vector<TLogInterface> tlogs;       // every one holds every tag
  RatekeeperInterface ratekeeper;          // admission control for the generation's proxies
  std::vector<ShardAssignment> shards;     // the core state's shard map, for the whole generation
  template <class Archive>
  void serialize(Archive& archive) {
    archive(id, generation, recovery_state, recovery_version, recovery_seconds, sequencer, proxies, resolvers,
            resolver_ranges, tlogs, ratekeeper, shards);
  }
  bool accepting_commits() const { return recovery_state == RecoveryState::accepting_commits; }
};

}  // namespace keel

// What the cluster controller's actors share (private to src/server/cluster_controller).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "protocol/cluster_config.h"
#include "protocol/cluster_controller_interface.h"
#include "runtime/async_var.h"
#include "runtime/future.h"
#include "runtime/notified.h"
#include "server/cluster_controller/cluster_controller.h"
#include "server/coordinator/cluster_connection.h"
#include "server/coordinator/coordinated_state.h"
#include "server/coordinator/leader_election.h"

namespace keel {

// A worker is taken for failed when it has not registered for this long (it re-registers at
// least every register_hold_seconds) or its address is known unreachable.
inline constexpr double worker_silence_seconds = 1.5;
// Versions the new generation starts above the recovery version: more than an old generation
// can hand out after its logs were locked (FoundationDB's MAX_VERSIONS_IN_FLIGHT).
inline constexpr Version recovery_version_jump = 100'000'000;

struct WorkerEntry {
  WorkerInterface worker;
  std::string process_class;
  double last_seen = 0;
};

struct ControllerState {
  ClusterConfig cluster;
  std::shared_ptr<ClusterConnection> connection;  // the coordinators it was elected through
  ClusterControllerInterface self;
  LeaderCandidate* candidate = nullptr;
  double started_at = 0;
  std::map<NetworkAddress, WorkerEntry> workers;
  NotifiedValue<uint64_t> registrations{0};  // counts registrations, so recruiters can wait for more
  AsyncVar<ServerDBInfo> db_info;             // the published generation (id 0: none yet)
  RecoveryState recovery_state = RecoveryState::reading_core_state;
  uint64_t recoveries = 0;  // completed by this controller
  ClusterSettings settings;  // as the last core state read or written said
  NotifiedValue<uint64_t> reconfigurations{0};  // counts settings changes that need a recovery
  int64_t moves_finished = 0;                   // shard moves data distribution finished
  ReachabilityMemory* reachability = nullptr;   // the process's, outlives this controller

  // Registered workers that look alive and may host transaction roles (not excluded).
  std::vector<WorkerInterface> transaction_workers() const;
  bool is_available(const WorkerEntry& entry) const;
  bool is_excluded(const NetworkAddress& address) const;
};

// A random non-zero id for a CoordinatedState proposer.
uint64_t new_proposer_id();

// Recovers into a new generation and publishes it (recovery.cpp). Throws recovery_failed or
// the error of the step that failed (coordinated_state_conflict when another controller
// fenced this one out of the core state); the caller starts over.
Future<Void> recover(ControllerState* state, CoordinatedState* core_state);

// Finishes a move of the core state to the coordinator set `core.moving_to` names (a recovery
// read it half done from `old_set`): the new set gets the core state unless it has one, the old
// set forwards to it, and this process follows. Then throws coordinators_changed: the controller steps down
// and the cluster recovers under the new set (coordinators_change.cpp).
Future<Void> finish_coordinators_move(ControllerState* state, CoordinatorSet old_set, CoreState core);

// Serves `keel cli coordinators` (coordinators_change.cpp); throws coordinators_changed after
// a change, so the controller steps down.
Future<Void> serve_coordinators_changes(ControllerState* state);

// Serves `keel cli configure`, `exclude` and `include` (settings_change.cpp): changes the
// settings in the core state and, when they move transaction roles, counts a reconfiguration,
// which makes run_recoveries recover.
Future<Void> serve_settings_changes(ControllerState* state);

// Keeps every shard on a team of healthy storage servers (data_distribution.cpp): moves
// shards off dead and excluded servers and to the replication the settings ask for.
Future<Void> distribute_data(ControllerState* state);

// The storage servers per shard the settings ask for (else the configuration file's).
int32_t storage_replicas(const ControllerState& state);

// Ready when any role of the published generation has failed.
Future<Void> generation_failed(const ServerDBInfo& info);

// The transaction roles of a published generation and where they run (none before the first).
std::vector<RoleStatus> roles_of(const ServerDBInfo& info);

// Gathers the cluster's status (cluster_status.cpp).
Future<ClusterStatus> gather_status(ControllerState* state);

}  // namespace keel

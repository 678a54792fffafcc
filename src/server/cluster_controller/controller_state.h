// What the cluster controller's actors share (private to src/server/cluster_controller).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "protocol/cluster_config.h"
#include "protocol/cluster_controller_interface.h"
#include "runtime/async_var.h"
#include "runtime/future.h"
#include "runtime/notified.h"
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
  ClusterControllerInterface self;
  LeaderCandidate* candidate = nullptr;
  double started_at = 0;
  std::map<NetworkAddress, WorkerEntry> workers;
  NotifiedValue<uint64_t> registrations{0};  // counts registrations, so recruiters can wait for more
  AsyncVar<ServerDBInfo> db_info;             // the published generation (id 0: none yet)
  RecoveryState recovery_state = RecoveryState::reading_core_state;
  uint64_t recoveries = 0;  // completed by this controller

  // Registered workers that look alive and may host transaction roles.
  std::vector<WorkerInterface> transaction_workers() const;
  bool is_available(const WorkerEntry& entry) const;
};

// Recovers into a new generation and publishes it (recovery.cpp). Throws recovery_failed or
// the error of the step that failed (coordinated_state_conflict when another controller
// fenced this one out of the core state); the caller starts over.
Future<Void> recover(ControllerState* state, CoordinatedState* core_state);

// Ready when any role of the published generation has failed.
Future<Void> generation_failed(const ServerDBInfo& info);

// Gathers the cluster's status (cluster_status.cpp).
Future<ClusterStatus> gather_status(ControllerState* state);

}  // namespace keel

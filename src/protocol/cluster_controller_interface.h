// The cluster controller's interface. The controller is elected through the coordinators
// (docs/coordination.md); its LeaderInfo description is a serialized LeaderDescription, so
// workers find the controller and clients find the proxies by asking the coordinators.
#pragma once

#include <string>

#include "protocol/server_db_info.h"
#include "protocol/status.h"
#include "protocol/worker_interface.h"

namespace keel {

// Process classes (keel server --class): which roles recruitment may place on a process.
inline constexpr const char* process_class_storage = "storage";  // storage servers only

// A worker's registration and heartbeat; also how it learns the ServerDBInfo. The controller
// answers at once when it has a newer ServerDBInfo than `known_db_info_id`, else within about
// register_hold_seconds with the same one.
struct RegisterWorkerRequest {
  WorkerInterface worker;
  std::string process_class;
  uint64_t known_db_info_id = 0;
  ReplyPromise<ServerDBInfo> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(worker, process_class, known_db_info_id, reply);
  }
};

inline constexpr double register_hold_seconds = 0.5;

// `keel cli coordinators`: moves the core state to a new coordinator set (`coordinators`, or
// with `automatic` a set the controller chooses from the registered workers) and answers with
// the new connection string. The controller then steps down: the cluster recovers under the
// new set. Errors: coordinators_invalid, coordinators_unreachable, coordinated_state_conflict
// (a recovery raced the change: retry).
struct ChangeCoordinatorsRequest {
  std::vector<NetworkAddress> coordinators;
  bool automatic = false;
  ReplyPromise<std::string> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(coordinators, automatic, reply);
  }
};

// Per-generation role counts allowed by `keel cli configure`.
inline constexpr int32_t configured_count_max = 16;

// `keel cli configure` / `exclude` / `include`: changes the cluster's settings (kept in the core
// state) and answers with them. A change that moves transaction roles (a count, or excluding a
// process that hosts one) starts a recovery. Zero or empty fields leave a setting as it is.
// Errors: configuration_invalid (a count out of range), replication_needs_zones (more replicas
// than zones with storage servers), no_transaction_host_left (excluding every live process
// that may host transaction roles), coordinated_state_conflict (a recovery raced the change:
// retry). A request with every field empty changes nothing and answers the settings as they are.
struct ChangeSettingsRequest {
  int32_t tlogs = 0;
  int32_t proxies = 0;
  int32_t resolvers = 0;
  std::vector<NetworkAddress> exclude;
  std::vector<NetworkAddress> include;
  bool include_all = false;
  int32_t storage_replicas = 0;  // 0: unchanged
  ReplyPromise<ClusterSettings> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(tlogs, proxies, resolvers, exclude, include, include_all, reply, storage_replicas);
  }
};

struct ClusterControllerInterface {
  RequestStream<RegisterWorkerRequest> register_worker;
  RequestStream<GetClusterStatusRequest> get_status;
  RequestStream<ChangeCoordinatorsRequest> change_coordinators;
  RequestStream<ChangeSettingsRequest> change_settings;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(register_worker, get_status, change_coordinators, change_settings);
  }
};

// What the elected controller publishes through the coordinators.
struct LeaderDescription {
  ClusterControllerInterface controller;
  ClusterDescription client;  // the current proxies (none until the first recovery completes)
  template <class Archive>
  void serialize(Archive& archive) {
    archive(controller, client);
  }
};

}  // namespace keel

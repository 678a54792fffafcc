// Cluster status: what `keel cli status` and the metrics surface show. Gathered by the
// coordinator (the process with the sequencer) from every role when a client asks.
#pragma once

#include <string>
#include <vector>

#include "protocol/types.h"
#include "rpc/request_stream.h"
#include "world/network_address.h"

namespace keel {

struct StorageServerStatus {
  uint16_t tag = 0;
  NetworkAddress address;
  std::string engine;
  Version latest_version = 0;   // applied from the log
  Version durable_version = 0;  // in the engine
  int64_t logical_bytes = 0;    // keys and values in the engine
  int64_t disk_bytes = 0;       // engine files
  int64_t window_bytes = 0;     // the in-memory MVCC window
  std::vector<KeyRange> shards;
  bool reachable = true;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(tag, address, engine, latest_version, durable_version, logical_bytes, disk_bytes, window_bytes, shards,
            reachable);
  }
};

struct RoleStatus {
  std::string role;  // "sequencer", "proxy", "resolver", "tlog", "storage"
  NetworkAddress address;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(role, address);
  }
};

struct ClusterStatus {
  uint64_t generation = 0;
  Version live_committed_version = 0;
  NetworkAddress coordinator;
  std::vector<RoleStatus> roles;
  std::vector<StorageServerStatus> storage;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(generation, live_committed_version, coordinator, roles, storage);
  }
};

struct GetClusterStatusRequest {
  ReplyPromise<ClusterStatus> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(reply);
  }
};

struct GetStorageStatusRequest {
  ReplyPromise<StorageServerStatus> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(reply);
  }
};

}  // namespace keel

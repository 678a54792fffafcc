// Cluster status: what `keel cli status` and the metrics surface show. Gathered by the
// cluster controller from every role when a client asks.
#pragma once

#include <string>
#include <vector>

#include "protocol/ratekeeper_interface.h"
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
  // Engine metrics (storage/kv_store.h EngineMetrics) since the server started: write
  // amplification is device / logical bytes written, space amplification disk / logical bytes.
  int64_t logical_bytes_written = 0;  // keys and values handed to the engine
  int64_t device_bytes_written = -1;  // bytes the engine wrote to its files; -1 when unknown
  int64_t engine_commits = 0;
  double engine_commit_seconds_mean = 0;  // around each engine commit
  double engine_commit_seconds_max = 0;
  // Its process's memory (world.h ProcessMemory): held, and the budget; 0 when unknown.
  int64_t memory_used_bytes = 0;
  int64_t memory_budget_bytes = 0;
  // Data distribution: of `shards` (every range it gets mutations of), those whose data it
  // holds in its engine (complete and durable), those it is fetching, and the bytes it fetched
  // from other servers since it started (repair traffic).
  std::vector<KeyRange> durable_shards;
  std::vector<KeyRange> fetching_shards;
  int64_t fetched_bytes = 0;
  uint64_t followed_generation = 0;  // the generation whose shard map `shards` is from
  // Point reads the engine's row cache answered and passed on since the server started; -1 when
  // the engine has no row cache.
  int64_t cache_hits = -1;
  int64_t cache_misses = -1;
  // Point reads of keys the engine never held that its key filter answered; -1 without one.
  int64_t filtered_reads = -1;
  template <class Archive>
  void serialize(Archive& archive) {
    // Fields are only ever appended (rpc/serialize.h).
    archive(tag, address, engine, latest_version, durable_version, logical_bytes, disk_bytes, window_bytes, shards,
            reachable, logical_bytes_written, device_bytes_written, engine_commits, engine_commit_seconds_mean,
            engine_commit_seconds_max, memory_used_bytes, memory_budget_bytes, durable_shards, fetching_shards,
            fetched_bytes, followed_generation, cache_hits, cache_misses, filtered_reads);
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

struct WorkerStatus {
  NetworkAddress address;
  std::string process_class;
  bool failed = false;  // registered once, now unreachable
  template <class Archive>
  void serialize(Archive& archive) {
    archive(address, process_class, failed);
  }
};

// A shard with fewer reachable storage servers than the replication factor.
struct ShardReplicationStatus {
  KeyRange range;
  int32_t replicas_reachable = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(range, replicas_reachable);
  }
};

struct ClusterStatus {
  uint64_t generation = 0;
  Version live_committed_version = 0;
  NetworkAddress coordinator;  // the cluster controller's address
  std::vector<RoleStatus> roles;
  std::vector<StorageServerStatus> storage;
  std::string recovery_state;     // recovery_state_name() of the current generation
  double recovery_seconds = 0;    // how long the last recovery took
  uint64_t recoveries = 0;        // recoveries this controller ran
  std::vector<NetworkAddress> coordinators;
  std::vector<WorkerStatus> workers;
  // Replication health, from the storage servers' reports above (reachable or not).
  int32_t storage_replicas = 0;        // the configured k (0: not reported)
  int32_t replicas_reachable_min = 0;  // the fewest reachable servers of any shard
  std::vector<ShardReplicationStatus> degraded_shards;  // the shards with fewer than k reachable
  std::vector<NetworkAddress> excluded;                  // `keel cli exclude`
  RateStatus rate;                                       // admission control, from the ratekeeper
  // Data distribution: shards being moved now, and moves finished by this controller.
  int32_t shards_moving = 0;
  int64_t moves_finished = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    // Fields are only ever appended (rpc/serialize.h).
    archive(generation, live_committed_version, coordinator, roles, storage, recovery_state, recovery_seconds,
            recoveries, coordinators, workers, storage_replicas, replicas_reachable_min, degraded_shards, excluded,
            rate, shards_moving, moves_finished);
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

// ClusterConfig: the configuration every process of a cluster is started with: the
// coordinators, how many of each transaction role a generation has (the cluster controller
// recruits them onto live processes), which process hosts which storage server, and which
// storage servers own which key ranges (the shard map). Storage servers are found by address
// and index (well_known.h); everything else through the cluster controller.
#pragma once

#include <string>
#include <vector>

#include "protocol/limits.h"
#include "protocol/tlog_interface.h"
#include "protocol/types.h"
#include "world/network_address.h"

namespace keel {

struct RoleLocation {
  NetworkAddress address;
  int32_t index = 0;  // among the roles of that kind in the process
  template <class Archive>
  void serialize(Archive& archive) {
    archive(address, index);
  }
};

struct StorageLocation {
  RoleLocation location;
  Tag tag = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(location, tag);
  }
};

struct ShardAssignment {
  KeyRange range;
  std::vector<Tag> tags;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(range, tags);
  }
};

// The end of the keyspace: every key, system keys included, sorts below it.
inline const Key keyspace_end = "\xff\xff";

struct ClusterConfig {
  std::vector<NetworkAddress> coordinators;  // 1, 3 or 5; the cluster file names them
  int32_t proxies = 1;
  std::vector<KeyRange> resolver_ranges{KeyRange{"", keyspace_end}};  // one resolver each; a partition
  int32_t tlogs = 1;  // logs per generation, each holding every tag (the log replication factor)
  std::vector<StorageLocation> storage;
  std::vector<ShardAssignment> shards;  // sorted, partitioning ["", keyspace_end)

  template <class Archive>
  void serialize(Archive& archive) {
    archive(coordinators, proxies, resolver_ranges, tlogs, storage, shards);
  }

  // Every role in one process at `address` (its only coordinator): one proxy, resolver and
  // log, `storage_servers` storage servers, and `shard_count` shards spread over them
  // round-robin.
  static ClusterConfig single_process(NetworkAddress address, int storage_servers, int shard_count);

  // Index into `shards` of the shard holding `key`.
  size_t shard_index(const Key& key) const;
  const StorageLocation& storage_for(Tag tag) const;
  // Throws invalid_option_value (with a trace event) unless the configuration is consistent.
  void validate() const;
};

// "[begin..end) tags 1 2; ..." with non-printable key bytes as \xNN, for messages.
std::string describe_shards(const std::vector<ShardAssignment>& shards);

// Splits ["", end) into `count` ranges at evenly spaced first bytes.
std::vector<KeyRange> split_by_first_byte(int count, const Key& end);
// Splits ["", "\xff") into `count` shards at evenly spaced first bytes, plus the system shard
// ["\xff", keyspace_end).
std::vector<KeyRange> default_shard_ranges(int count);

}  // namespace keel

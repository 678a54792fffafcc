// ClusterConfig: the static configuration of a cluster: which process hosts which role, and
// which storage servers own which key ranges (the shard map). Until recruitment exists every
// process of a cluster is started with the same configuration; the processes find each other's
// roles by address and index (well_known.h).
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

struct ResolverLocation {
  RoleLocation location;
  KeyRange range;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(location, range);
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
  uint64_t generation = 1;
  NetworkAddress sequencer;  // also serves the cluster description to clients
  std::vector<RoleLocation> proxies;
  std::vector<ResolverLocation> resolvers;  // their ranges partition ["", keyspace_end)
  std::vector<RoleLocation> tlogs;
  std::vector<StorageLocation> storage;
  std::vector<ShardAssignment> shards;  // sorted, partitioning ["", keyspace_end)

  template <class Archive>
  void serialize(Archive& archive) {
    archive(generation, sequencer, proxies, resolvers, tlogs, storage, shards);
  }

  // Every role in one process at `address`: one proxy, resolver and log, `storage_servers`
  // storage servers, and `shard_count` shards spread over them round-robin.
  static ClusterConfig single_process(NetworkAddress address, int storage_servers, int shard_count);

  // Index into `shards` of the shard holding `key`.
  size_t shard_index(const Key& key) const;
  // Which log stores a tag's mutations.
  size_t tlog_for(Tag tag) const { return tag % tlogs.size(); }
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

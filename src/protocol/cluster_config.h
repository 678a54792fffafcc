// ClusterConfig: the configuration every process of a cluster is started with: the
// coordinators, how many of each transaction role a generation has (the cluster controller
// recruits them onto live processes), which process hosts which storage server, and which
// storage servers own which key ranges (the shard map). Storage servers are found by address
// and index (well_known.h); everything else through the cluster controller.
//
// Replication: each shard is owned by a team of `storage_replicas` storage servers (k) in
// distinct zones (failure domains: a zone is the process address unless the configuration
// names one). Every member of a team gets every mutation of the shard (the proxy tags a
// mutation with the whole team) and serves reads of it; clients spread reads over the team and
// fail over within it. The assignment of shards to teams is a pure function of the ranges, the
// storage list (in order) and k (assign_shards): every process started with the same
// configuration computes the same shard map, and the proxies check it against the copy stored
// in the system keyspace on every start.
#pragma once

#include <optional>
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
  std::string zone;  // the failure domain; empty: the process address (zone_of)
  template <class Archive>
  void serialize(Archive& archive) {
    archive(location, tag, zone);
  }
};

// The zone of a storage server: its configured zone, or else its process address.
std::string zone_of(const StorageLocation& storage);

// A shard and its team. `tags` serve it; while data distribution moves it (docs/
// fault_tolerance.md, "Data distribution as built"), `dest` is the team it moves to: every
// mutation of the range reaches tags and dest, the members of dest not in tags fetch the range,
// and when they all hold it durably dest becomes the team (empty when not moving).
//
// `joined` says, for each of them that data distribution added, from which generation on it
// has got the range's mutations (others: from the configuration's map, generation 0). A
// storage server that skipped generations may have been dropped and added again in them, so it
// fetches the range again when it joined after the first generation it skipped.
struct MemberSince {
  Tag tag = 0;
  uint64_t generation = 0;
  bool operator==(const MemberSince&) const = default;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(tag, generation);
  }
};

struct ShardAssignment {
  KeyRange range;
  std::vector<Tag> tags;
  std::vector<Tag> dest;
  std::vector<MemberSince> joined;
  bool operator==(const ShardAssignment&) const = default;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(range, tags, dest, joined);
  }
  // The generation from which `tag` has got the range's mutations (0: from the start).
  uint64_t joined_generation(Tag tag) const;
  bool moving() const { return !dest.empty(); }
  // Whether `tag` gets the range's mutations (a member of tags or dest).
  bool has(Tag tag) const;
  // Every server that gets the range's mutations: tags, then the members of dest not in tags.
  std::vector<Tag> receivers() const;
};

// Whether `team` has `tag`.
bool shard_has_member(const std::vector<Tag>& team, Tag tag);

// Index into `shards` (sorted, partitioning the keyspace) of the shard holding `key`.
size_t shard_index(const std::vector<ShardAssignment>& shards, const Key& key);

// The end of the keyspace: every key, system keys included, sorts below it.
inline const Key keyspace_end = "\xff\xff";

struct ClusterConfig {
  std::vector<NetworkAddress> coordinators;  // 1, 3 or 5; the cluster file names them
  int32_t proxies = 1;
  std::vector<KeyRange> resolver_ranges{KeyRange{"", keyspace_end}};  // one resolver each; a partition
  int32_t tlogs = 1;  // logs per generation, each holding every tag (the log replication factor)
  std::vector<StorageLocation> storage;
  std::vector<ShardAssignment> shards;  // sorted, partitioning ["", keyspace_end)
  int32_t storage_replicas = 1;  // k: the storage servers (in distinct zones) of every shard

  template <class Archive>
  void serialize(Archive& archive) {
    archive(coordinators, proxies, resolver_ranges, tlogs, storage, shards, storage_replicas);
  }

  // Every role in one process at `address` (its only coordinator): one proxy, resolver and
  // log, `storage_servers` storage servers, and `shard_count` shards spread over them
  // round-robin (one replica: a single process is a single zone).
  static ClusterConfig single_process(NetworkAddress address, int storage_servers, int shard_count);

  // Index into `shards` of the shard holding `key`.
  size_t shard_index(const Key& key) const { return keel::shard_index(shards, key); }
  const StorageLocation& storage_for(Tag tag) const;
  // How many distinct zones host storage servers.
  int storage_zones() const;
  // Throws invalid_option_value (with a trace event) unless the configuration is consistent:
  // among others, every shard has exactly storage_replicas servers, in distinct zones.
  void validate() const;
};

inline constexpr int32_t storage_replicas_max = 5;

// The teams of `ranges`, in order: the team of shard i is built member by member; member j
// starts looking at position (i + j * step) mod n of `storage` (n servers, step = max(1, n / k))
// and takes the first server from there on, cyclically, whose zone is not in the team yet.
// With k = 1 shard i is on server i mod n (round robin, as before replication existed); with
// servers listed process by process, the stride puts a shard's members on different processes
// and every server in about the same number of teams. Throws invalid_option_value (traced)
// unless 1 <= k <= storage_replicas_max and k is at most the number of zones.
std::vector<ShardAssignment> assign_shards(const std::vector<KeyRange>& ranges,
                                           const std::vector<StorageLocation>& storage, int replicas);

// "single", "double", "triple" for 1, 2, 3 replicas; "N replicas" otherwise.
std::string replication_mode_name(int replicas);
// The replicas of a mode name ("single", "double", "triple"), or nullopt.
std::optional<int> replication_mode_replicas(const std::string& name);

// `key` with its non-printable bytes (and backslashes) as \xNN, for messages and traces.
std::string escape_key(const Key& key);

// "[begin..end) tags 1 2; ..." with non-printable key bytes as \xNN, for messages.
std::string describe_shards(const std::vector<ShardAssignment>& shards);

// Splits ["", end) into `count` ranges at evenly spaced first bytes.
std::vector<KeyRange> split_by_first_byte(int count, const Key& end);
// Splits ["", "\xff") into `count` shards at evenly spaced first bytes, plus the system shard
// ["\xff", keyspace_end).
std::vector<KeyRange> default_shard_ranges(int count);

}  // namespace keel

#include "protocol/cluster_config.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "runtime/error.h"
#include "runtime/trace.h"

namespace keel {

std::vector<KeyRange> split_by_first_byte(int count, const Key& end) {
  std::vector<KeyRange> ranges;
  Key begin;
  for (int i = 1; i < count; ++i) {
    Key boundary(1, static_cast<char>(i * 255 / count));
    ranges.push_back(KeyRange{begin, boundary});
    begin = boundary;
  }
  ranges.push_back(KeyRange{begin, end});
  return ranges;
}

std::vector<KeyRange> default_shard_ranges(int count) {
  std::vector<KeyRange> ranges = split_by_first_byte(count, Key(1, system_key_byte));
  ranges.push_back(KeyRange{Key(1, system_key_byte), keyspace_end});
  return ranges;
}

namespace {

[[noreturn]] void invalid_config(const char* why) {
  TraceEvent(Severity::warn_always, "ClusterConfigInvalid").detail("Reason", why);
  throw Error(errc::invalid_option_value);
}

int count_zones(const std::vector<StorageLocation>& storage) {
  std::set<std::string> zones;
  for (const StorageLocation& location : storage) zones.insert(zone_of(location));
  return static_cast<int>(zones.size());
}

// The team of shard `shard` (header: assign_shards).
std::vector<Tag> team_of(size_t shard, const std::vector<StorageLocation>& storage, int replicas) {
  const size_t n = storage.size();
  const size_t step = std::max<size_t>(1, n / static_cast<size_t>(replicas));
  std::vector<Tag> team;
  std::set<std::string> zones;
  for (size_t member = 0; member < static_cast<size_t>(replicas); ++member) {
    const size_t start = (shard + member * step) % n;
    for (size_t offset = 0; offset < n; ++offset) {
      const StorageLocation& candidate = storage[(start + offset) % n];
      if (zones.insert(zone_of(candidate)).second) {
        team.push_back(candidate.tag);
        break;
      }
    }
  }
  KEEL_ASSERT(team.size() == static_cast<size_t>(replicas));  // the caller checked the zones
  return team;
}

}  // namespace

std::string zone_of(const StorageLocation& storage) {
  return storage.zone.empty() ? storage.location.address.to_string() : storage.zone;
}

std::vector<ShardAssignment> assign_shards(const std::vector<KeyRange>& ranges,
                                           const std::vector<StorageLocation>& storage, int replicas) {
  if (replicas < 1 || replicas > storage_replicas_max) invalid_config("storage replicas must be 1..5");
  if (replicas > count_zones(storage)) invalid_config("more storage replicas than zones with storage servers");
  std::vector<ShardAssignment> shards;
  for (size_t i = 0; i < ranges.size(); ++i) shards.push_back(ShardAssignment{ranges[i], team_of(i, storage, replicas)});
  return shards;
}

std::string replication_mode_name(int replicas) {
  switch (replicas) {
    case 1: return "single";
    case 2: return "double";
    case 3: return "triple";
    default: return fmt::format("{} replicas", replicas);
  }
}

std::optional<int> replication_mode_replicas(const std::string& name) {
  if (name == "single") return 1;
  if (name == "double") return 2;
  if (name == "triple") return 3;
  return std::nullopt;
}

ClusterConfig ClusterConfig::single_process(NetworkAddress address, int storage_servers, int shard_count) {
  ClusterConfig config;
  config.coordinators.push_back(address);
  for (int i = 0; i < storage_servers; ++i) {
    config.storage.push_back(StorageLocation{RoleLocation{address, i}, static_cast<Tag>(i), ""});
  }
  config.shards = assign_shards(default_shard_ranges(shard_count), config.storage, 1);
  return config;
}

bool shard_has_member(const std::vector<Tag>& team, Tag tag) {
  return std::find(team.begin(), team.end(), tag) != team.end();
}

uint64_t ShardAssignment::joined_generation(Tag tag) const {
  for (const MemberSince& member : joined) {
    if (member.tag == tag) return member.generation;
  }
  return 0;
}

std::vector<Tag> ShardAssignment::receivers() const {
  std::vector<Tag> all = tags;
  for (Tag tag : dest) {
    if (!shard_has_member(tags, tag)) all.push_back(tag);
  }
  return all;
}

bool ShardAssignment::has(Tag tag) const { return shard_has_member(tags, tag) || shard_has_member(dest, tag); }

size_t shard_index(const std::vector<ShardAssignment>& shards, const Key& key) {
  auto it = std::upper_bound(shards.begin(), shards.end(), key,
                             [](const Key& k, const ShardAssignment& shard) { return k < shard.range.begin; });
  KEEL_ASSERT(it != shards.begin());
  return static_cast<size_t>(it - shards.begin()) - 1;
}

const StorageLocation& ClusterConfig::storage_for(Tag tag) const {
  for (const StorageLocation& location : storage) {
    if (location.tag == tag) return location;
  }
  throw Error(errc::invalid_option_value);
}

int ClusterConfig::storage_zones() const { return count_zones(storage); }

void ClusterConfig::validate() const {
  auto fail = [](const char* why) { invalid_config(why); };
  if (coordinators.empty() || proxies < 1 || resolver_ranges.empty() || tlogs < 1 || storage.empty() || shards.empty()) {
    fail("every role needs at least one process");
  }
  if (coordinators.size() % 2 == 0) fail("the number of coordinators must be odd");
  if (storage_replicas < 1 || storage_replicas > storage_replicas_max) fail("storage replicas must be 1..5");
  if (storage_replicas > storage_zones()) fail("more storage replicas than zones with storage servers");
  Key expected;
  for (const ShardAssignment& shard : shards) {
    if (shard.range.begin != expected || shard.range.empty()) fail("shards must partition the keyspace in order");
    if (shard.tags.size() != static_cast<size_t>(storage_replicas)) fail("every shard needs storage_replicas servers");
    std::set<std::string> zones;
    for (Tag tag : shard.tags) {
      if (!zones.insert(zone_of(storage_for(tag))).second) fail("a shard's servers must be in distinct zones");
    }
    expected = shard.range.end;
  }
  if (expected != keyspace_end) fail("shards must cover the keyspace");
  expected.clear();
  for (const KeyRange& range : resolver_ranges) {
    if (range.begin != expected) fail("resolver ranges must partition the keyspace in order");
    expected = range.end;
  }
  if (expected != keyspace_end) fail("resolver ranges must cover the keyspace");
}

std::string escape_key(const Key& key) {
  std::string text;
  for (unsigned char byte : key) {
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') text += static_cast<char>(byte);
    else text += fmt::format("\\x{:02x}", byte);
  }
  return text;
}

std::string describe_shards(const std::vector<ShardAssignment>& shards) {
  std::string text;
  for (const ShardAssignment& shard : shards) {
    text += fmt::format("{}[{}..{}) tags", text.empty() ? "" : "; ", escape_key(shard.range.begin), escape_key(shard.range.end));
    for (Tag tag : shard.tags) text += fmt::format(" {}", tag);
    if (shard.moving()) {
      text += " moving to";
      for (Tag tag : shard.dest) text += fmt::format(" {}", tag);
    }
  }
  return text;
}

}  // namespace keel

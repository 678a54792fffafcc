#include "protocol/cluster_config.h"

#include <algorithm>

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

ClusterConfig ClusterConfig::single_process(NetworkAddress address, int storage_servers, int shard_count) {
  ClusterConfig config;
  config.coordinators.push_back(address);
  for (int i = 0; i < storage_servers; ++i) {
    config.storage.push_back(StorageLocation{RoleLocation{address, i}, static_cast<Tag>(i)});
  }
  const std::vector<KeyRange> ranges = default_shard_ranges(shard_count);
  for (size_t i = 0; i < ranges.size(); ++i) {
    config.shards.push_back(ShardAssignment{ranges[i], {static_cast<Tag>(i % static_cast<size_t>(storage_servers))}});
  }
  return config;
}

size_t ClusterConfig::shard_index(const Key& key) const {
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

void ClusterConfig::validate() const {
  auto fail = [](const char* why) {
    TraceEvent(Severity::warn_always, "ClusterConfigInvalid").detail("Reason", why);
    throw Error(errc::invalid_option_value);
  };
  if (coordinators.empty() || proxies < 1 || resolver_ranges.empty() || tlogs < 1 || storage.empty() || shards.empty()) {
    fail("every role needs at least one process");
  }
  if (coordinators.size() % 2 == 0) fail("the number of coordinators must be odd");
  Key expected;
  for (const ShardAssignment& shard : shards) {
    if (shard.range.begin != expected || shard.range.empty()) fail("shards must partition the keyspace in order");
    if (shard.tags.empty()) fail("every shard needs a storage server");
    for (Tag tag : shard.tags) storage_for(tag);
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

std::string describe_shards(const std::vector<ShardAssignment>& shards) {
  auto escaped = [](const Key& key) {
    std::string text;
    for (unsigned char byte : key) {
      if (byte >= 0x20 && byte < 0x7f && byte != '\\') text += static_cast<char>(byte);
      else text += fmt::format("\\x{:02x}", byte);
    }
    return text;
  };
  std::string text;
  for (const ShardAssignment& shard : shards) {
    text += fmt::format("{}[{}..{}) tags", text.empty() ? "" : "; ", escaped(shard.range.begin), escaped(shard.range.end));
    for (Tag tag : shard.tags) text += fmt::format(" {}", tag);
  }
  return text;
}

}  // namespace keel

#include "cmd/static_config.h"

#include <toml++/toml.h>

#include <fmt/format.h>

#include <set>

namespace keel::cmd {
namespace {

[[noreturn]] void invalid(const std::string& path, const std::string& message) {
  throw ConfigError{fmt::format("{}: {}", path, message)};
}

}  // namespace

ClusterConfig parse_static_config(const std::string& toml_text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(toml_text, path);
  } catch (const toml::parse_error& error) {
    invalid(path, fmt::format("line {}: {}", error.source().begin.line, error.description()));
  }
  const toml::array* processes = root["process"].as_array();
  if (processes == nullptr || processes->empty()) invalid(path, "needs at least one [[process]]");
  ClusterConfig cluster;
  std::vector<NetworkAddress> resolver_addresses;
  bool has_sequencer = false;
  Tag next_tag = 0;
  std::set<NetworkAddress> seen;
  for (const toml::node& node : *processes) {
    const toml::table* process = node.as_table();
    if (process == nullptr) invalid(path, "each [[process]] must be a table");
    const auto address_text = (*process)["address"].value<std::string>();
    if (!address_text) invalid(path, "a [[process]] has no address");
    NetworkAddress address;
    try {
      address = NetworkAddress::parse(*address_text);
    } catch (const Error&) {
      invalid(path, fmt::format("'{}' is not an address of the form IP:PORT", *address_text));
    }
    if (!seen.insert(address).second) invalid(path, fmt::format("{} is listed twice", *address_text));
    const toml::array* roles = (*process)["roles"].as_array();
    if (roles == nullptr || roles->empty()) invalid(path, fmt::format("{} has no roles", *address_text));
    const int storage_servers = static_cast<int>((*process)["storage_servers"].value_or(int64_t{1}));
    for (const toml::node& role_node : *roles) {
      const std::string role = role_node.value_or(std::string());
      if (role == "sequencer") {
        if (has_sequencer) invalid(path, "exactly one process may have the sequencer role");
        has_sequencer = true;
        cluster.sequencer = address;
      } else if (role == "proxy") {
        cluster.proxies.push_back(RoleLocation{address, 0});
      } else if (role == "resolver") {
        resolver_addresses.push_back(address);
      } else if (role == "tlog") {
        cluster.tlogs.push_back(RoleLocation{address, 0});
      } else if (role == "storage") {
        if (storage_servers < 1 || storage_servers > 64) invalid(path, "storage_servers must be 1..64");
        for (int i = 0; i < storage_servers; ++i) cluster.storage.push_back(StorageLocation{RoleLocation{address, i}, next_tag++});
      } else {
        invalid(path, fmt::format("unknown role '{}' (sequencer, proxy, resolver, tlog, storage)", role));
      }
    }
  }
  if (!has_sequencer) invalid(path, "one process must have the sequencer role");
  if (cluster.proxies.empty() || resolver_addresses.empty() || cluster.tlogs.empty() || cluster.storage.empty()) {
    invalid(path, "the cluster needs at least one proxy, resolver, tlog and storage role");
  }
  const std::vector<KeyRange> resolver_ranges = split_by_first_byte(static_cast<int>(resolver_addresses.size()), keyspace_end);
  for (size_t i = 0; i < resolver_addresses.size(); ++i) {
    cluster.resolvers.push_back(ResolverLocation{RoleLocation{resolver_addresses[i], 0}, resolver_ranges[i]});
  }
  const int shard_count = static_cast<int>(root["shards"]["count"].value_or(int64_t{4}));
  if (shard_count < 1 || shard_count > 255) invalid(path, "shards.count must be 1..255");
  const std::vector<KeyRange> shards = default_shard_ranges(shard_count);
  for (size_t i = 0; i < shards.size(); ++i) {
    cluster.shards.push_back(ShardAssignment{shards[i], {cluster.storage[i % cluster.storage.size()].tag}});
  }
  return cluster;
}

}  // namespace keel::cmd

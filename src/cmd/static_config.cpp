#include "cmd/static_config.h"

#include <toml++/toml.h>

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <vector>

#include "protocol/cluster_controller_interface.h"
#include "protocol/cluster_file.h"

namespace keel::cmd {
namespace {

constexpr const char* process_class_unset = "unset";
const std::set<std::string> transaction_roles = {"sequencer", "proxy", "resolver", "tlog"};
constexpr int storage_servers_max = 64;
constexpr int shard_count_max = 255;
constexpr size_t zone_bytes_max = 64;

struct ProcessEntry {
  NetworkAddress address;
  std::set<std::string> roles;
  int storage_servers = 1;
  std::string zone;  // empty: the address
  bool transaction() const {
    auto transactional = [](const std::string& role) { return transaction_roles.count(role) > 0; };
    return std::any_of(roles.begin(), roles.end(), transactional);
  }
};

[[noreturn]] void invalid(const std::string& path, const std::string& message) {
  throw ConfigError{fmt::format("{}: {}", path, message)};
}

NetworkAddress parse_address(const std::string& path, const std::string& text) {
  try {
    return NetworkAddress::parse(text);
  } catch (const Error&) {
    invalid(path, fmt::format("'{}' is not an address of the form IP:PORT", text));
  }
}

void check_keys(const std::string& path, const toml::table& table, const std::set<std::string>& known,
                const std::string& where) {
  for (const auto& [key, value] : table) {
    if (known.count(std::string(key.str())) == 0) {
      invalid(path, fmt::format("unknown key '{}' in {}", key.str(), where));
    }
  }
}

ProcessEntry parse_process(const std::string& path, const toml::node& node) {
  const toml::table* process = node.as_table();
  if (process == nullptr) invalid(path, "each [[process]] must be a table");
  check_keys(path, *process, {"address", "roles", "storage_servers", "zone"}, "[[process]]");
  const std::optional<std::string> address_text = (*process)["address"].value<std::string>();
  if (!address_text) invalid(path, "a [[process]] has no address");
  ProcessEntry entry;
  entry.address = parse_address(path, *address_text);
  const toml::array* roles = (*process)["roles"].as_array();
  if (roles == nullptr || roles->empty()) invalid(path, fmt::format("{} has no roles", *address_text));
  for (const toml::node& role_node : *roles) {
    const std::string role = role_node.value_or(std::string());
    if (role != "storage" && transaction_roles.count(role) == 0) {
      invalid(path, fmt::format("unknown role '{}' (sequencer, proxy, resolver, tlog, storage)", role));
    }
    if (!entry.roles.insert(role).second) {
      invalid(path, fmt::format("{} lists the role '{}' twice", *address_text, role));
    }
  }
  if (const toml::node_view<const toml::node> count = (*process)["storage_servers"]; count) {
    if (entry.roles.count("storage") == 0) {
      invalid(path, fmt::format("{} has storage_servers but not the storage role", *address_text));
    }
    const std::optional<int64_t> value = count.value<int64_t>();
    if (!value || *value < 1 || *value > storage_servers_max) {
      invalid(path, fmt::format("storage_servers must be 1..{}", storage_servers_max));
    }
    entry.storage_servers = static_cast<int>(*value);
  }
  if (const toml::node_view<const toml::node> zone = (*process)["zone"]; zone) {
    const std::optional<std::string> name = zone.value<std::string>();
    if (!name || name->empty() || name->size() > zone_bytes_max) {
      invalid(path, fmt::format("{}: zone must be a non-empty string of at most {} bytes", *address_text, zone_bytes_max));
    }
    entry.zone = *name;
  }
  return entry;
}

std::vector<ProcessEntry> parse_processes(const std::string& path, const toml::table& root) {
  const toml::array* processes = root["process"].as_array();
  if (processes == nullptr || processes->empty()) invalid(path, "needs at least one [[process]]");
  std::vector<ProcessEntry> entries;
  std::set<NetworkAddress> seen;
  for (const toml::node& node : *processes) {
    ProcessEntry entry = parse_process(path, node);
    if (!seen.insert(entry.address).second) invalid(path, fmt::format("{} is listed twice", entry.address.to_string()));
    entries.push_back(std::move(entry));
  }
  return entries;
}

// The `coordinators` array, or the first process with a transaction role.
std::vector<NetworkAddress> parse_coordinators(const std::string& path, const toml::table& root,
                                               const std::vector<ProcessEntry>& processes) {
  std::vector<NetworkAddress> coordinators;
  const toml::node* node = root.get("coordinators");
  if (node == nullptr) {
    auto transactional = [](const ProcessEntry& entry) { return entry.transaction(); };
    auto first = std::find_if(processes.begin(), processes.end(), transactional);
    if (first != processes.end()) coordinators.push_back(first->address);
    return coordinators;
  }
  const toml::array* listed = node->as_array();
  if (listed == nullptr) invalid(path, "coordinators must be an array of addresses");
  for (const toml::node& entry : *listed) {
    const std::optional<std::string> text = entry.value<std::string>();
    if (!text) invalid(path, "coordinators must be an array of addresses");
    const NetworkAddress address = parse_address(path, *text);
    auto same = [&address](const ProcessEntry& process) { return process.address == address; };
    if (std::none_of(processes.begin(), processes.end(), same)) {
      invalid(path, fmt::format("coordinator {} is not the address of a [[process]]", *text));
    }
    if (std::find(coordinators.begin(), coordinators.end(), address) != coordinators.end()) {
      invalid(path, fmt::format("coordinator {} is listed twice", *text));
    }
    coordinators.push_back(address);
  }
  if (coordinators.size() % 2 == 0 || coordinators.size() > coordinators_max) {
    invalid(path, fmt::format("the number of coordinators must be odd and at most {} (1, 3 or 5), not {}",
                              coordinators_max, coordinators.size()));
  }
  return coordinators;
}

int count_role(const std::vector<ProcessEntry>& processes, const std::string& role) {
  return static_cast<int>(std::count_if(processes.begin(), processes.end(),
                                        [&role](const ProcessEntry& entry) { return entry.roles.count(role) > 0; }));
}

// The `replication` mode as a number of storage replicas (default single: 1).
int parse_replication(const std::string& path, const toml::table& root) {
  const toml::node* node = root.get("replication");
  if (node == nullptr) return 1;
  const std::optional<std::string> mode = node->value<std::string>();
  const std::optional<int> replicas = mode ? replication_mode_replicas(*mode) : std::nullopt;
  if (!replicas) invalid(path, "replication must be \"single\", \"double\" or \"triple\"");
  return *replicas;
}

int parse_shard_count(const std::string& path, const toml::table& root) {
  if (const toml::table* shards = root["shards"].as_table()) check_keys(path, *shards, {"count"}, "[shards]");
  const std::optional<int64_t> shard_count = root["shards"]["count"].value<int64_t>();
  if (root["shards"]["count"] && (!shard_count || *shard_count < 1 || *shard_count > shard_count_max)) {
    invalid(path, fmt::format("shards.count must be 1..{}", shard_count_max));
  }
  return static_cast<int>(shard_count.value_or(4));
}

}  // namespace

StaticConfig parse_static_config(const std::string& toml_text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(toml_text, path);
  } catch (const toml::parse_error& error) {
    invalid(path, fmt::format("line {}: {}", error.source().begin.line, error.description()));
  }
  check_keys(path, root, {"coordinators", "process", "replication", "shards"}, "the top level");
  const std::vector<ProcessEntry> processes = parse_processes(path, root);
  StaticConfig config;
  ClusterConfig& cluster = config.cluster;
  cluster.coordinators = parse_coordinators(path, root, processes);
  cluster.proxies = count_role(processes, "proxy");
  cluster.tlogs = count_role(processes, "tlog");
  const int resolvers = count_role(processes, "resolver");
  Tag next_tag = 0;
  for (const ProcessEntry& process : processes) {
    if (process.roles.count("storage") > 0) {
      for (int i = 0; i < process.storage_servers; ++i) {
        cluster.storage.push_back(StorageLocation{RoleLocation{process.address, i}, next_tag++, process.zone});
      }
    }
    const bool storage_only = !process.transaction();
    config.process_classes[process.address] = storage_only ? process_class_storage : process_class_unset;
  }
  if (cluster.proxies < 1 || resolvers < 1 || cluster.tlogs < 1 || cluster.storage.empty()) {
    invalid(path, "the cluster needs at least one proxy, resolver, tlog and storage role");
  }
  cluster.resolver_ranges = split_by_first_byte(resolvers, keyspace_end);
  cluster.storage_replicas = parse_replication(path, root);
  if (cluster.storage_replicas > cluster.storage_zones()) {
    invalid(path, fmt::format("replication \"{}\" needs storage servers in {} zones (processes, or the zones they "
                              "name), but only {} host storage servers",
                              replication_mode_name(cluster.storage_replicas), cluster.storage_replicas,
                              cluster.storage_zones()));
  }
  cluster.shards = assign_shards(default_shard_ranges(parse_shard_count(path, root)), cluster.storage,
                                 cluster.storage_replicas);
  try {
    cluster.validate();
  } catch (const Error& error) {
    invalid(path, fmt::format("inconsistent configuration: {}", error.describe()));
  }
  return config;
}

}  // namespace keel::cmd

// `keel cli status json`: the cluster status as one JSON object (the metrics surface), for
// monitoring scripts. Byte counts in bytes, lags in seconds; an unknown figure is null.
#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "cmd/cli_escape.h"
#include "cmd/cli_status.h"
#include "protocol/limits.h"

namespace keel::cmd {
namespace {

using nlohmann::json;

double seconds_of(Version versions) {
  return static_cast<double>(std::max<Version>(versions, 0)) / static_cast<double>(versions_per_second);
}

// numerator / denominator, or null when either is unknown or the denominator zero.
json ratio(int64_t numerator, int64_t denominator) {
  if (numerator < 0 || denominator <= 0) return nullptr;
  return static_cast<double>(numerator) / static_cast<double>(denominator);
}

json addresses(const std::vector<NetworkAddress>& list) {
  json out = json::array();
  for (const NetworkAddress& address : list) out.push_back(address.to_string());
  return out;
}

json storage_server(const StorageServerStatus& server, Version live_committed_version) {
  json out = {{"tag", server.tag}, {"address", server.address.to_string()}, {"reachable", server.reachable}};
  if (!server.reachable) return out;
  out["engine"] = server.engine;
  out["latest_version"] = server.latest_version;
  out["durable_version"] = server.durable_version;
  out["lag_seconds"] = seconds_of(live_committed_version - server.latest_version);
  out["durability_lag_seconds"] = seconds_of(server.latest_version - server.durable_version);
  out["logical_bytes"] = server.logical_bytes;
  out["disk_bytes"] = server.disk_bytes;
  out["window_bytes"] = server.window_bytes;
  out["shards"] = server.shards.size();
  out["shards_fetching"] = server.fetching_shards.size();
  out["fetched_bytes"] = server.fetched_bytes;
  out["logical_bytes_written"] = server.logical_bytes_written;
  out["device_bytes_written"] = server.device_bytes_written < 0 ? json(nullptr) : json(server.device_bytes_written);
  out["write_amplification"] = ratio(server.device_bytes_written, server.logical_bytes_written);
  out["space_amplification"] = ratio(server.disk_bytes, server.logical_bytes);
  out["cache_hits"] = server.cache_hits < 0 ? json(nullptr) : json(server.cache_hits);
  out["cache_misses"] = server.cache_misses < 0 ? json(nullptr) : json(server.cache_misses);
  out["cache_hit_ratio"] = ratio(server.cache_hits, server.cache_hits + server.cache_misses);
  out["filtered_reads"] = server.filtered_reads < 0 ? json(nullptr) : json(server.filtered_reads);
  out["engine_commits"] = server.engine_commits;
  out["engine_commit_seconds_mean"] = server.engine_commit_seconds_mean;
  out["engine_commit_seconds_max"] = server.engine_commit_seconds_max;
  out["memory_used_bytes"] = server.memory_used_bytes;
  out["memory_budget_bytes"] = server.memory_budget_bytes;
  return out;
}

json admission(const RateStatus& rate) {
  json out = {{"known", rate.known}, {"released_per_second", rate.released_per_second}};
  const bool limited = rate.known && rate.transactions_per_second_limit >= 0;
  out["limited"] = limited;
  out["transactions_per_second_limit"] = limited ? json(rate.transactions_per_second_limit) : json(nullptr);
  out["limited_by"] = limited ? json(rate.limited_by) : json(nullptr);
  return out;
}

json replication(const ClusterStatus& status) {
  json degraded = json::array();
  for (const ShardReplicationStatus& shard : status.degraded_shards) {
    degraded.push_back({{"begin", printable(shard.range.begin)},
                        {"end", printable(shard.range.end)},
                        {"replicas_reachable", shard.replicas_reachable}});
  }
  int64_t fetched_bytes = 0;
  for (const StorageServerStatus& server : status.storage) fetched_bytes += server.fetched_bytes;
  json distribution = {{"shards_moving", status.shards_moving},
                       {"moves_finished", status.moves_finished},
                       {"fetched_bytes", fetched_bytes}};
  if (status.storage_replicas <= 0) {
    return {{"replicas", nullptr}, {"degraded_shards", degraded}, {"data_distribution", distribution}};
  }
  return {{"replicas", status.storage_replicas},
          {"replicas_reachable_min", status.replicas_reachable_min},
          {"healthy", status.degraded_shards.empty()},
          {"degraded_shards", degraded},
          {"data_distribution", distribution}};
}

}  // namespace

std::string cluster_status_json(const ClusterStatus& status, const std::vector<std::string>& coordinator_problems) {
  json roles = json::array();
  for (const RoleStatus& role : status.roles) roles.push_back({{"role", role.role}, {"address", role.address.to_string()}});
  json workers = json::array();
  for (const WorkerStatus& worker : status.workers) {
    workers.push_back(
        {{"address", worker.address.to_string()}, {"class", worker.process_class}, {"failed", worker.failed}});
  }
  json unreachable = json::array();  // as the cli probed them: address and problem
  for (size_t i = 0; i < coordinator_problems.size() && i < status.coordinators.size(); ++i) {
    if (coordinator_problems[i].empty()) continue;
    unreachable.push_back({{"address", status.coordinators[i].to_string()}, {"problem", coordinator_problems[i]}});
  }
  json storage = json::array();
  for (const StorageServerStatus& server : status.storage) {
    storage.push_back(storage_server(server, status.live_committed_version));
  }
  const json out = {
      {"generation", status.generation},
      {"recovery_state", status.recovery_state},
      {"recovery_seconds", status.recovery_seconds},
      {"recoveries", status.recoveries},
      {"cluster_controller", status.coordinator.to_string()},
      {"coordinators", addresses(status.coordinators)},
      {"coordinators_unreachable", unreachable},
      {"excluded", addresses(status.excluded)},
      {"live_committed_version", status.live_committed_version},
      {"replication", replication(status)},
      {"admission", admission(status.rate)},
      {"roles", roles},
      {"workers", workers},
      {"storage_servers", storage},
  };
  return out.dump(2);
}

}  // namespace keel::cmd

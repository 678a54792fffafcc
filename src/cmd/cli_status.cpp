#include "cmd/cli_status.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "cmd/cli_escape.h"
#include "protocol/cluster_config.h"
#include "protocol/cluster_file.h"
#include "protocol/limits.h"

namespace keel::cmd {
namespace {

double version_seconds(Version versions) {
  return static_cast<double>(std::max<Version>(versions, 0)) / static_cast<double>(versions_per_second);
}

// "sequencer  127.0.0.1:4500", one line per role and address, with a count when a process hosts
// several instances of a role; in the order the controller reported them.
std::string format_roles(const std::vector<RoleStatus>& roles) {
  std::vector<std::pair<RoleStatus, int>> grouped;
  for (const RoleStatus& role : roles) {
    auto same = [&role](const std::pair<RoleStatus, int>& entry) {
      return entry.first.role == role.role && entry.first.address == role.address;
    };
    auto found = std::find_if(grouped.begin(), grouped.end(), same);
    if (found == grouped.end()) grouped.emplace_back(role, 1);
    else ++found->second;
  }
  std::string text = "Roles:\n";
  for (const auto& [role, count] : grouped) {
    text += fmt::format("  {:<10} {}{}\n", role.role, role.address.to_string(),
                        count > 1 ? fmt::format(" (x{})", count) : "");
  }
  return text;
}

// "127.0.0.1:4500  unset" per worker, failed ones marked; in the order the controller reported.
std::string format_workers(const std::vector<WorkerStatus>& workers) {
  auto failed = [](const WorkerStatus& worker) { return worker.failed; };
  std::string text = fmt::format("\nWorkers ({}, {} failed):\n", workers.size(),
                                 std::count_if(workers.begin(), workers.end(), failed));
  for (const WorkerStatus& worker : workers) {
    const std::string address = worker.address.to_string();
    if (worker.failed) text += fmt::format("  {:<21} {:<10} failed\n", address, worker.process_class);
    else text += fmt::format("  {:<21} {}\n", address, worker.process_class);
  }
  return text;
}

// "3 shards moving, 12 moves finished, 4.1 MB fetched" (repair traffic: bytes storage servers
// fetched from others since they started).
std::string format_distribution(const ClusterStatus& status) {
  int64_t fetched = 0;
  for (const StorageServerStatus& server : status.storage) fetched += server.fetched_bytes;
  return fmt::format("{} shard{} moving, {} move{} finished, {} fetched", status.shards_moving,
                     status.shards_moving == 1 ? "" : "s", status.moves_finished, status.moves_finished == 1 ? "" : "s",
                     format_bytes(fetched));
}

// "accepting_commits (last recovery took 0.42 s)".
std::string format_recovery(const ClusterStatus& status) {
  const std::string state = status.recovery_state.empty() ? "-" : status.recovery_state;
  if (status.recoveries == 0) return state;
  return fmt::format("{} (last recovery took {:.2f} s)", state, status.recovery_seconds);
}

std::string format_storage(const StorageServerStatus& server, Version live_committed_version) {
  if (!server.reachable) return fmt::format("  {:<4} {:<21} unreachable\n", server.tag, server.address.to_string());
  const Version lag = live_committed_version - server.latest_version;
  const Version durability_lag = server.latest_version - server.durable_version;
  return fmt::format("  {:<4} {:<21} {:>14} {:>14} {:>8.2f} {:>13.2f} {:>10} {:>10} {:>10} {:>6}  {}\n", server.tag,
                     server.address.to_string(), server.latest_version, server.durable_version, version_seconds(lag),
                     version_seconds(durability_lag), format_bytes(server.logical_bytes),
                     format_bytes(server.disk_bytes), format_bytes(server.window_bytes), server.shards.size(),
                     server.engine);
}

// "2.10", or "-" when either side is unknown or zero.
std::string format_ratio(int64_t numerator, int64_t denominator) {
  if (numerator < 0 || denominator <= 0) return "-";
  return fmt::format("{:.2f}", static_cast<double>(numerator) / static_cast<double>(denominator));
}

// "93.1%", or "-" when either side is unknown or the whole zero.
std::string format_percent(int64_t part, int64_t whole) {
  if (part < 0 || whole <= 0) return "-";
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

// One line of engine metrics: what was written to the engine and to the device, and sizes.
std::string format_engine(const StorageServerStatus& server) {
  if (!server.reachable) return "";
  const std::string device = server.device_bytes_written < 0 ? "-" : format_bytes(server.device_bytes_written);
  return fmt::format("  {:<4} {:<8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8} {:>9.1f} {:>9.1f} {:>10}\n", server.tag,
                     server.engine, format_bytes(server.logical_bytes_written), device,
                     format_ratio(server.device_bytes_written, server.logical_bytes_written),
                     format_bytes(server.logical_bytes), format_bytes(server.disk_bytes),
                     format_ratio(server.disk_bytes, server.logical_bytes), server.engine_commits,
                     server.engine_commit_seconds_mean * 1000, server.engine_commit_seconds_max * 1000,
                     format_percent(server.cache_hits, server.cache_hits + server.cache_misses));
}

// "double (2 of 2 replicas reachable for every shard)", or the shards below k with how many of
// their servers are reachable (at most shards_listed_max of them, then how many more).
std::string format_replication(const ClusterStatus& status) {
  constexpr size_t shards_listed_max = 8;
  if (status.storage_replicas <= 0) return "-";
  const std::string mode = replication_mode_name(status.storage_replicas);
  if (status.degraded_shards.empty()) {
    return fmt::format("{} ({} of {} replicas reachable for every shard)", mode, status.storage_replicas,
                       status.storage_replicas);
  }
  std::string shards;
  for (size_t i = 0; i < status.degraded_shards.size() && i < shards_listed_max; ++i) {
    const ShardReplicationStatus& shard = status.degraded_shards[i];
    shards += fmt::format("{}[{}..{}) {} of {}", i == 0 ? "" : ", ", printable(shard.range.begin),
                          printable(shard.range.end), shard.replicas_reachable, status.storage_replicas);
  }
  if (status.degraded_shards.size() > shards_listed_max) {
    shards += fmt::format(", and {} more", status.degraded_shards.size() - shards_listed_max);
  }
  const size_t count = status.degraded_shards.size();
  const auto unavailable = std::count_if(status.degraded_shards.begin(), status.degraded_shards.end(),
                                         [](const ShardReplicationStatus& shard) { return shard.replicas_reachable == 0; });
  // A shard with no replica reachable cannot be read until one comes back; writes commit (the
  // logs keep them for the replicas).
  const std::string state = unavailable == 0 ? "DEGRADED"
                            : fmt::format("UNAVAILABLE ({} shard{} with no replica reachable: reads of their keys "
                                          "wait until one comes back; writes commit, kept in the logs for it)",
                                          unavailable, unavailable == 1 ? "" : "s");
  return fmt::format("{} - {}: {} shard{} with fewer than {} replicas reachable (fewest: {}): {}", mode, state, count,
                     count == 1 ? "" : "s", status.storage_replicas, status.replicas_reachable_min, shards);
}

// One line per process hosting storage servers: its resident memory against its budget.
std::string format_memory(const std::vector<StorageServerStatus>& servers) {
  std::string text;
  std::set<std::string> listed;
  for (const StorageServerStatus& server : servers) {
    if (!server.reachable || server.memory_budget_bytes <= 0) continue;
    const std::string address = server.address.to_string();
    if (!listed.insert(address).second) continue;
    text += fmt::format("  {:<21} {:>10} of {:>10} ({:.0f}%)\n", address, format_bytes(server.memory_used_bytes),
                        format_bytes(server.memory_budget_bytes),
                        100.0 * static_cast<double>(server.memory_used_bytes) /
                            static_cast<double>(server.memory_budget_bytes));
  }
  if (text.empty()) return "";
  return "\nMemory (processes hosting storage servers):\n" + text +
         "  (resident anonymous memory of the process, and its budget: keel server --memory)\n";
}

std::string format_rate(const RateStatus& rate) {
  if (!rate.known) return "unknown (the ratekeeper did not answer)";
  const std::string started = fmt::format("{:.0f} transactions/s started", rate.released_per_second);
  if (rate.transactions_per_second_limit < 0) return fmt::format("not limited; {}", started);
  return fmt::format("LIMITED to {:.0f} transactions/s by {}; {}", rate.transactions_per_second_limit, rate.limited_by,
                     started);
}

}  // namespace

std::string format_bytes(int64_t bytes) {
  if (bytes < 1000) return fmt::format("{} B", bytes);
  static constexpr const char* units[] = {"kB", "MB", "GB", "TB", "PB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  value /= 1000;
  while (value >= 1000 && unit + 1 < std::size(units)) {
    value /= 1000;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, units[unit]);
}

// The coordinators that do not answer, and what a majority needs: "" when all answer.
std::string format_coordinator_problems(const ClusterStatus& status, const std::vector<std::string>& problems) {
  std::vector<std::string> found;
  for (size_t i = 0; i < problems.size() && i < status.coordinators.size(); ++i) {
    if (!problems[i].empty()) found.push_back(problems[i]);
  }
  if (found.empty()) return {};
  const size_t count = status.coordinators.size();
  const size_t answering = count - found.size();
  const size_t majority = count / 2 + 1;
  const std::string consequence =
      answering >= majority
          ? fmt::format("{} more failure{} and the cluster cannot elect a controller or recover", answering - majority + 1,
                        answering - majority + 1 == 1 ? "" : "s")
          : std::string("fewer than a majority answer: the cluster cannot elect a controller or recover");
  return fmt::format("{} of {} not answering: {} ({})", found.size(), count, fmt::join(found, "; "), consequence);
}

std::string format_cluster_status(const ClusterStatus& status, const std::vector<std::string>& coordinator_problems) {
  std::string text = "Cluster:\n";
  text += fmt::format("  Generation             - {}\n", status.generation);
  text += fmt::format("  Recovery state         - {}\n", format_recovery(status));
  text += fmt::format("  Recoveries             - {}\n", status.recoveries);
  text += fmt::format("  Cluster controller     - {}\n", status.coordinator.to_string());
  const std::string coordinators = status.coordinators.empty() ? "-" : describe_addresses(status.coordinators);
  text += fmt::format("  Coordinators           - {}\n", coordinators);
  const std::string down = format_coordinator_problems(status, coordinator_problems);
  if (!down.empty()) text += fmt::format("  Coordinators down      - {}\n", down);
  if (!status.excluded.empty()) text += fmt::format("  Excluded               - {}\n", describe_addresses(status.excluded));
  text += fmt::format("  Live committed version - {}\n", status.live_committed_version);
  text += fmt::format("  Replication            - {}\n", format_replication(status));
  text += fmt::format("  Data distribution      - {}\n", format_distribution(status));
  text += fmt::format("  Admission              - {}\n\n", format_rate(status.rate));
  text += format_roles(status.roles);
  text += format_workers(status.workers);
  text += fmt::format("\nStorage servers ({}):\n", status.storage.size());
  text += fmt::format("  {:<4} {:<21} {:>14} {:>14} {:>8} {:>13} {:>10} {:>10} {:>10} {:>6}  {}\n", "tag", "address",
                      "latest", "durable", "lag (s)", "dur. lag (s)", "data", "disk", "window", "shards", "engine");
  for (const StorageServerStatus& server : status.storage) text += format_storage(server, status.live_committed_version);
  text +=
      "  (latest/durable: versions applied / in the engine; lag: behind the committed version; dur. lag: applied\n"
      "   but not yet durable; data: keys and values in the engine; window: the in-memory MVCC window)\n";
  text += "\nStorage engines:\n";
  text += fmt::format("  {:<4} {:<8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8} {:>9} {:>9} {:>10}\n", "tag",
                      "engine", "written", "device", "write amp", "data", "disk", "space amp", "commits", "commit ms",
                      "max ms", "cache hits");
  for (const StorageServerStatus& server : status.storage) text += format_engine(server);
  text +=
      "  (written: keys and values handed to the engine since the server started; device: bytes the engine\n"
      "   wrote to its files; write amp: device / written; space amp: disk / data; commit ms: mean and\n"
      "   max time of an engine commit; cache hits: point reads the engine's row cache answered)\n";
  text += format_memory(status.storage);
  return text;
}

}  // namespace keel::cmd

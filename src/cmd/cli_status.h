// The text of `keel cli status`: a ClusterStatus as the lines an operator reads, or (`status
// json`, the metrics surface) as one JSON object for monitoring. Pure.
#pragma once

#include <string>
#include <vector>

#include "protocol/status.h"

namespace keel::cmd {

// Lag in versions is also shown in seconds (versions advance versions_per_second per second).
// `coordinator_problems`, when given: one entry per status.coordinators, "" for one that answers
// (client/connection_probe.h), else why it does not.
std::string format_cluster_status(const ClusterStatus& status, const std::vector<std::string>& coordinator_problems = {});

// The JSON of `keel cli status json` (docs/transactions.md, "Status as JSON"): numbers in bytes,
// versions and seconds; keys escaped as the cli prints them.
std::string cluster_status_json(const ClusterStatus& status, const std::vector<std::string>& coordinator_problems = {});

// 1234567 bytes as "1.2 MB" (decimal units, as disks are sold).
std::string format_bytes(int64_t bytes);

}  // namespace keel::cmd

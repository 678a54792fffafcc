// The text of `keel cli status`: a ClusterStatus as the lines an operator reads. Pure.
#pragma once

#include <string>

#include "protocol/status.h"

namespace keel::cmd {

// Lag in versions is also shown in seconds (versions advance versions_per_second per second).
std::string format_cluster_status(const ClusterStatus& status);

// 1234567 bytes as "1.2 MB" (decimal units, as disks are sold).
std::string format_bytes(int64_t bytes);

}  // namespace keel::cmd

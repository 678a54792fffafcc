// Requests `keel cli` sends to the cluster controller, retried while it cannot be reached.
// The administration commands themselves (coordinators, configure, exclude, include) are
// CliSession members in cli_admin.cpp.
#pragma once

#include <optional>

#include "client/database.h"
#include "protocol/status.h"
#include "runtime/error.h"

namespace keel::cmd {

// The cluster status, asked until the controller answers (retryable errors are remembered in
// `last_retried_error`, for the timeout message).
Future<ClusterStatus> ask_status(Database database, std::optional<Error>* last_retried_error);

}  // namespace keel::cmd

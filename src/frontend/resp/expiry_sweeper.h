// The expiry sweeper: removes keys whose deadline passed, so expired data does not stay stored.
// Commands already treat them as missing (keyspace.h); the sweeper only reclaims space. Each
// round is one transaction over at most resp_sweep_keys_max entries of the expiry index;
// removing an expired key does not touch its stamp (it changed when it expired, for WATCH).
#pragma once

#include <memory>

#include "runtime/future.h"

namespace keel {

struct RespServerState;

Future<Void> run_expiry_sweeper(std::shared_ptr<RespServerState> server);

// One round: removes up to `keys_max` expired keys; true if more may be due.
Future<bool> sweep_expired_once(std::shared_ptr<RespServerState> server, int keys_max);

}  // namespace keel

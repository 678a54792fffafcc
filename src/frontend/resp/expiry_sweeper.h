// The expiry sweeper: removes keys whose deadline passed, so expired data does not stay stored.
// Commands already treat them as missing (keyspace.h); the sweeper only reclaims space. Each
// round is one transaction over at most resp_sweep_keys_max entries of the expiry index;
// removing an expired key does not touch its stamp (it changed when it expired, for WATCH).
// Each round that leaves no expired key behind also looks at up to as many WATCH markers, in
// turn, and drops those older than resp_watch_marker_seconds.
#pragma once

#include <memory>

#include "protocol/types.h"
#include "runtime/future.h"

namespace keel {

struct RespServerState;

Future<Void> run_expiry_sweeper(std::shared_ptr<RespServerState> server);

// One round: removes up to `keys_max` expired keys; true if more may be due.
Future<bool> sweep_expired_once(std::shared_ptr<RespServerState> server, int keys_max);
// One round over up to `keys_max` WATCH markers from `from` on (empty: the first): drops the old
// ones; returns where the next round starts.
Future<Key> sweep_watch_markers_once(std::shared_ptr<RespServerState> server, Key from, int keys_max);

}  // namespace keel

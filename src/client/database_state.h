// DatabaseState: what a client process knows about one cluster: its coordinators, how to reach
// the proxies of the current generation, a cache of shard locations (invalidated when a
// storage server says wrong_shard_server), and the storage servers that failed reads lately.
//
// The proxies come from the coordinators: they name the elected cluster controller, whose
// leader description (protocol/cluster_controller_interface.h) lists the proxies of the
// current generation. While no controller is elected or it has no proxies yet (a recovery is
// under way) the client asks again, every leader_retry_delay_seconds (client_knobs.h). A
// client forgets the proxies when a request to one fails in a way that says the proxy or its
// generation is gone (is_proxy_failure), and then asks the coordinators again; for a while
// (stale_generation_wait_seconds) it takes only proxies of a newer generation than the ones
// that failed, so it does not go back to a generation that is being replaced.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "client/read_versions.h"
#include "protocol/cluster_controller_interface.h"
#include "protocol/proxy_interface.h"
#include "runtime/future.h"
#include "server/coordinator/cluster_connection.h"
#include "world/network_address.h"

namespace keel {

// What reads from storage teams met (client/load_balance.h): for status and tests.
struct StorageReadStats {
  uint64_t reads = 0;        // reads sent to a team (one per shard read, retries within the team included)
  uint64_t failovers = 0;    // times a read moved on from a member that could not serve it
  // Reads that found no member reachable: each failed to connect, lost its connection or had no
  // such endpoint (none was merely behind or slow: future_version, timed_out).
  uint64_t unreachable = 0;
  double slowest_seconds = 0;  // the longest read that succeeded, failovers included
};

struct DatabaseState {
  explicit DatabaseState(std::shared_ptr<ClusterConnection> cluster_connection)
      : connection(std::move(cluster_connection)) {}

  // A proxy of the current generation (asks the coordinators, waiting for a controller with
  // proxies, when none is known). Never fails.
  Future<ProxyInterface> proxy();
  // Forgets the proxies (after they failed), so the next call asks the coordinators again.
  void forget_proxies();
  // What the elected cluster controller publishes; asks until a controller is elected.
  // Never fails.
  Future<LeaderDescription> leader();

  // The shard holding `key` (with `before`: the keys just below `key`).
  Future<ShardLocation> locate(Key key, bool before = false);
  // The same from the location cache alone: nullptr when it does not know. Valid until the
  // cache changes (locate, invalidate).
  const ShardLocation* cached_location(const Key& key, bool before = false) const;
  void invalidate(const Key& key);

  // The coordinators (as the cluster file names them, following them when they move).
  std::shared_ptr<ClusterConnection> connection;
  std::optional<ClusterDescription> description;
  uint64_t failed_generation = 0;  // the generation of the proxies last forgotten
  double failed_at = 0;            // when they were forgotten
  // The coordinators being asked for proxies: one lookup shared by every caller of proxy().
  std::optional<Future<ClusterDescription>> proxy_lookup;
  std::map<Key, ShardLocation> locations;  // by range begin
  uint64_t next_proxy = 0;
  // Storage servers (by address) that failed a read lately, until when reads try them last
  // (client/load_balance.h).
  std::map<NetworkAddress, double> storage_avoid_until;
  StorageReadStats storage_reads;
  ReadVersionRequests read_versions;  // client/read_versions.h

  static constexpr int watches_max = 10000;
  int watches = 0;  // outstanding (see client/watch.h)
};

// Whether an error of a request to a proxy means the proxy (or its whole generation) is gone,
// so the client should forget the proxies: broken_promise, connection_failed,
// request_maybe_delivered, tlog_stopped. Not for commits' unknown results alone: see
// Transaction::commit.
bool is_proxy_failure(const Error& error);

}  // namespace keel

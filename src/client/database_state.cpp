#include "client/database_state.h"

#include <algorithm>

#include "client/client_knobs.h"
#include "protocol/well_known.h"
#include "rpc/serialize.h"
#include "runtime/combinators.h"
#include "runtime/scheduler.h"
#include "runtime/trace.h"
#include "server/coordinator/leader_election.h"

namespace keel {
namespace {

// The elected controller's description as a majority of the coordinators report it; nullopt
// when none is elected or its description cannot be decoded.
Future<std::optional<LeaderDescription>> ask_coordinators(std::shared_ptr<ClusterConnection> connection) {
  Future<std::optional<LeaderInfo>> asked = get_leader(std::move(connection));
  const std::optional<LeaderInfo> leader = co_await asked;
  if (!leader) co_return std::nullopt;
  try {
    co_return deserialize_from_string<LeaderDescription>(leader->description);
  } catch (const Error& error) {
    TraceEvent(Severity::warn, "ClientLeaderDescriptionInvalid")
        .detail("Candidate", leader->candidate_id)
        .error(error)
        .suppress_for(1);
  }
  co_return std::nullopt;
}

// Asks the coordinators until they name a controller (with proxies, if `need_proxies`, of a
// generation above `stale_generation` unless `stale_until` has passed).
Future<LeaderDescription> wait_for_leader(std::shared_ptr<ClusterConnection> connection, bool need_proxies,
                                          uint64_t stale_generation = 0, double stale_until = 0) {
  const ClientKnobs& knobs = client_knobs();
  while (true) {
    Future<std::optional<LeaderDescription>> asked = ask_coordinators(connection);
    std::optional<LeaderDescription> leader = co_await asked;
    const bool usable = leader && (!need_proxies || (!leader->client.proxies.empty() &&
                                                     (leader->client.generation > stale_generation || now() >= stale_until)));
    if (usable) co_return std::move(*leader);
    TraceEvent(Severity::info, "ClientWaitingForCluster")
        .detail("LeaderKnown", leader.has_value())
        .detail("NeedProxies", need_proxies)
        .detail("StaleGeneration", stale_generation)
        .suppress_for(5);
    co_await delay(knobs.leader_retry_delay_seconds);
  }
}

Future<ClusterDescription> find_proxies(std::shared_ptr<ClusterConnection> connection, uint64_t stale_generation,
                                        double stale_until) {
  Future<LeaderDescription> found = wait_for_leader(std::move(connection), true, stale_generation, stale_until);
  LeaderDescription leader = co_await found;
  co_return std::move(leader.client);
}

}  // namespace

bool is_proxy_failure(const Error& error) {
  switch (error.code()) {
    case errc::broken_promise:
    case errc::connection_failed:
    case errc::request_maybe_delivered:
    case errc::tlog_stopped:
      return true;
    default:
      return false;
  }
}

void DatabaseState::forget_proxies() {
  if (description) {
    failed_generation = std::max(failed_generation, description->generation);
    failed_at = now();
  }
  description.reset();
}

Future<ProxyInterface> DatabaseState::proxy() {
  while (!description || description->proxies.empty()) {
    // A finished lookup is stale: it found the proxies that were since forgotten.
    if (!proxy_lookup || proxy_lookup->is_ready()) {
      proxy_lookup = find_proxies(connection, failed_generation, failed_at + client_knobs().stale_generation_wait_seconds);
    }
    Future<ClusterDescription> lookup = *proxy_lookup;
    description = co_await lookup;
  }
  const size_t choice = next_proxy++ % description->proxies.size();
  co_return description->proxies[choice];
}

Future<LeaderDescription> DatabaseState::leader() { return wait_for_leader(connection, false); }

const ShardLocation* DatabaseState::cached_location(const Key& key, bool before) const {
  auto it = locations.upper_bound(key);
  if (it == locations.begin()) return nullptr;
  const ShardLocation& cached = std::prev(it)->second;
  if (before ? (cached.range.begin < key && key <= cached.range.end) : cached.range.contains(key)) return &cached;
  if (before && it != locations.end() && it->second.range.begin < key && key <= it->second.range.end) return &it->second;
  return nullptr;
}

Future<ShardLocation> DatabaseState::locate(Key key, bool before) {
  if (const ShardLocation* cached = cached_location(key, before)) co_return *cached;
  ProxyInterface proxy_interface = co_await proxy();
  GetKeyServerLocationsRequest request;
  request.range = before ? KeyRange{"", key} : KeyRange{key, "\xff\xff"};
  request.reverse = before;
  request.limit = 4;
  Future<GetKeyServerLocationsReply> located = proxy_interface.get_key_server_locations.get_reply(request);
  co_await ready(located);
  if (located.is_error()) {
    if (is_proxy_failure(located.error())) forget_proxies();
    throw located.error();
  }
  const GetKeyServerLocationsReply& reply = located.get();
  if (reply.shards.empty()) throw Error(errc::wrong_shard_server);
  for (const ShardLocation& shard : reply.shards) locations[shard.range.begin] = shard;
  co_return reply.shards.front();
}

void DatabaseState::invalidate(const Key& key) {
  auto it = locations.upper_bound(key);
  if (it != locations.begin()) locations.erase(std::prev(it));
}

}  // namespace keel

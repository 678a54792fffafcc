// Load balancing over a shard's team: a read goes to one storage server of the team that owns
// its shard (ShardLocation.servers, the k replicas), chosen at random, and fails over to the
// next member when the chosen one is unreachable or not ready (is_storage_unavailable). Every
// member applies the same mutations, so any of them returns the same data at a version; one
// that is behind answers future_version, and the read moves on. The error of the last member
// surfaces only when every member failed. Other errors (wrong_shard_server: the location cache
// is stale; transaction_too_old) surface at once.
//
// A member that failed is avoided for storage_unavailable_penalty_seconds (client_knobs.h):
// tried only after the others. Every attempt but the last waits at most
// storage_read_timeout_seconds, so a dead or cut-off member costs a bounded delay; the last
// waits as long as the transport does (a partition is detected within the connection idle
// timeout), so a slow but healthy single replica is not abandoned over and over.
//
// Single-threaded, like the rest of the client: the DatabaseState must outlive the read.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "client/client_knobs.h"
#include "client/database_state.h"
#include "protocol/proxy_interface.h"
#include "runtime/combinators.h"
#include "runtime/error.h"
#include "runtime/trace.h"

namespace keel {

// Whether a storage server's error means it cannot serve the read now (dead, cut off, restarted
// or behind), so another member of the team should be asked: connection_failed,
// request_maybe_delivered, broken_promise, future_version, timed_out.
bool is_storage_unavailable(const Error& error);

// The order in which to try the members at `addresses`: starting at `first`, cyclically, with
// members whose address is avoided past `now` (avoid_until) moved to the end, in the same
// rotation. Pure, for tests.
std::vector<size_t> team_order(const std::vector<NetworkAddress>& addresses,
                               const std::map<NetworkAddress, double>& avoid_until, double now, size_t first);

// team_order for `location` from a random first member and the database's avoided servers.
std::vector<size_t> team_order(DatabaseState& database, const ShardLocation& location);

// Remembers that the server at `address` failed: later reads try it last for a while.
void avoid_storage_server(DatabaseState& database, const NetworkAddress& address);

// The reply of `send(server)` from one member of `location`'s team (see above). `send` takes a
// const StorageServerInterface& and returns Future<Reply>. `location` must outlive the read (the
// caller awaits it).
template <class Reply, class Send>
Future<Reply> load_balanced(DatabaseState* database, const ShardLocation& location, Send send) {
  KEEL_ASSERT(!location.servers.empty());
  const std::vector<size_t> order = team_order(*database, location);
  StorageReadStats& stats = database->storage_reads;
  ++stats.reads;
  const double started = now();
  std::optional<Error> last;
  bool reached = false;  // some member was reached but was behind or slow (future_version, timed_out)
  for (size_t attempt = 0; attempt < order.size(); ++attempt) {
    const StorageServerInterface& server = location.servers[order[attempt]];
    Future<Reply> sent = send(server);
    if (attempt + 1 < order.size()) sent = timeout_error(std::move(sent), client_knobs().storage_read_timeout_seconds);
    co_await ready(sent);
    if (!sent.is_error()) {
      stats.slowest_seconds = std::max(stats.slowest_seconds, now() - started);
      co_return co_await std::move(sent);  // ready: taken (a batch's values), not copied
    }
    const Error error = sent.error();
    if (!is_storage_unavailable(error)) throw error;
    reached = reached || error.code() == errc::future_version || error.code() == errc::timed_out;
    if (attempt + 1 < order.size()) ++stats.failovers;
    avoid_storage_server(*database, server.get_value.endpoint().address);
    TraceEvent(Severity::info, "ClientStorageFailover")
        .detail("Server", server.get_value.endpoint().address.to_string())
        .detail("Tag", server.tag)
        .detail("Attempt", attempt)
        .error(error)
        .suppress_for(1);
    last = error;
  }
  if (!reached) ++stats.unreachable;
  TraceEvent(Severity::info, "ClientStorageTeamUnavailable")
      .detail("FirstTag", location.servers.front().tag)
      .detail("Members", order.size())
      .detail("Reached", reached)
      .error(*last)
      .suppress_for(1);
  throw *last;
}

// Sends `send(location, server)` to a member of the team holding `key` (load_balanced above),
// refreshing the location cache when the shard moved; `*used` is the location it was sent to.
template <class Reply, class Send>
Future<Reply> at_shard(DatabaseState* database, Key key, bool before, Send send, ShardLocation* used = nullptr) {
  while (true) {
    // From the cache without a coroutine when it knows (nearly every read).
    ShardLocation location;
    if (const ShardLocation* cached = database->cached_location(key, before)) {
      location = *cached;
    } else {
      location = co_await database->locate(key, before);
    }
    if (used != nullptr) *used = location;
    try {
      auto to_member = [&location, &send](const StorageServerInterface& server) { return send(location, server); };
      Future<Reply> reply = load_balanced<Reply>(database, location, to_member);
      co_return co_await std::move(reply);
    } catch (const Error& error) {
      if (error.code() != errc::wrong_shard_server) throw;
      database->invalidate(key);
    }
  }
}

}  // namespace keel

// The Redis-protocol front end: serves Redis clients (RESP2 and RESP3) on a listener of this
// process's world, translating each command into transactions of a Database client of the
// cluster. One actor per connection; the commands of a connection run in order and their
// replies go out in request order; pipelined commands are parsed and run as they arrive, and a
// connection whose replies are not being read stops being read (back-pressure). An expiry
// sweeper removes expired keys in the background.
//
// Lifetime: run_resp_server() runs until its future is dropped, which closes every connection.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "frontend/resp/keyspace.h"
#include "runtime/future.h"
#include "server/coordinator/cluster_connection.h"
#include "world/world.h"

namespace keel {

struct RespServerOptions {
  std::shared_ptr<ClusterConnection> connection;  // the cluster to serve
  std::string prefix = std::string(resp_prefix_default);
  size_t connections_max = 10'000;
  bool sweep_expired = true;
};

Future<Void> run_resp_server(std::shared_ptr<IListener> listener, RespServerOptions options);

}  // namespace keel

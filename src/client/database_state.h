// DatabaseState: what a client process knows about one cluster: how to reach its proxies and a
// cache of shard locations (invalidated when a storage server says wrong_shard_server).
#pragma once

#include <map>
#include <optional>

#include "protocol/proxy_interface.h"
#include "runtime/future.h"
#include "world/network_address.h"

namespace keel {

struct DatabaseState {
  explicit DatabaseState(NetworkAddress coordinator_address) : coordinator(coordinator_address) {}

  // A proxy of the current generation (asks the coordinator when none is known).
  Future<ProxyInterface> proxy();
  // Forgets the proxies (after they failed), so the next call asks the coordinator again.
  void forget_proxies() { description.reset(); }

  // The shard holding `key` (with `before`: the keys just below `key`).
  Future<ShardLocation> locate(Key key, bool before = false);
  void invalidate(const Key& key);

  NetworkAddress coordinator;
  std::optional<ClusterDescription> description;
  std::map<Key, ShardLocation> locations;  // by range begin
  uint64_t next_proxy = 0;

  static constexpr int watches_max = 10000;
  int watches = 0;  // outstanding (see client/watch.h)
};

}  // namespace keel

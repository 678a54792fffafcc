#include "client/database_state.h"

#include "protocol/well_known.h"

namespace keel {

Future<ProxyInterface> DatabaseState::proxy() {
  while (!description || description->proxies.empty()) {
    GetClusterDescriptionRequest request;
    Future<ClusterDescription> described = cluster_description_at(coordinator).get_reply(request);
    description = co_await described;
  }
  const size_t choice = next_proxy++ % description->proxies.size();
  co_return description->proxies[choice];
}

Future<ShardLocation> DatabaseState::locate(Key key, bool before) {
  auto it = locations.upper_bound(key);
  if (it != locations.begin()) {
    const ShardLocation& cached = std::prev(it)->second;
    if (before ? (cached.range.begin < key && key <= cached.range.end) : cached.range.contains(key)) co_return cached;
    if (before && it != locations.end() && it->second.range.begin < key && key <= it->second.range.end) co_return it->second;
  }
  ProxyInterface proxy_interface = co_await proxy();
  GetKeyServerLocationsRequest request;
  request.range = before ? KeyRange{"", key} : KeyRange{key, "\xff\xff"};
  request.reverse = before;
  request.limit = 4;
  Future<GetKeyServerLocationsReply> located = proxy_interface.get_key_server_locations.get_reply(request);
  GetKeyServerLocationsReply reply = co_await located;
  if (reply.shards.empty()) throw Error(errc::wrong_shard_server);
  for (const ShardLocation& shard : reply.shards) locations[shard.range.begin] = shard;
  co_return reply.shards.front();
}

void DatabaseState::invalidate(const Key& key) {
  auto it = locations.upper_bound(key);
  if (it != locations.begin()) locations.erase(std::prev(it));
}

}  // namespace keel

#include "client/load_balance.h"

#include "runtime/random.h"
#include "runtime/scheduler.h"

namespace keel {

bool is_storage_unavailable(const Error& error) {
  switch (error.code()) {
    case errc::connection_failed:
    case errc::request_maybe_delivered:
    case errc::broken_promise:
    case errc::future_version:
    case errc::timed_out:
      return true;
    default:
      return false;
  }
}

std::vector<size_t> team_order(const std::vector<NetworkAddress>& addresses,
                               const std::map<NetworkAddress, double>& avoid_until, double now, size_t first) {
  std::vector<size_t> order;
  std::vector<size_t> avoided;
  for (size_t i = 0; i < addresses.size(); ++i) {
    const size_t index = (first + i) % addresses.size();
    auto found = avoid_until.find(addresses[index]);
    if (found != avoid_until.end() && found->second > now) avoided.push_back(index);
    else order.push_back(index);
  }
  order.insert(order.end(), avoided.begin(), avoided.end());
  return order;
}

std::vector<size_t> team_order(DatabaseState& database, const ShardLocation& location) {
  std::vector<NetworkAddress> addresses;
  for (const StorageServerInterface& server : location.servers) addresses.push_back(server.get_value.endpoint().address);
  const size_t first = addresses.size() > 1
                           ? static_cast<size_t>(deterministic_random().random_int(0, static_cast<int64_t>(addresses.size())))
                           : 0;
  const double at = now();
  // Forget what expired, so the map holds only servers avoided now (at most every storage address).
  std::erase_if(database.storage_avoid_until, [at](const auto& entry) { return entry.second <= at; });
  return team_order(addresses, database.storage_avoid_until, at, first);
}

void avoid_storage_server(DatabaseState& database, const NetworkAddress& address) {
  database.storage_avoid_until[address] = now() + client_knobs().storage_unavailable_penalty_seconds;
}

}  // namespace keel

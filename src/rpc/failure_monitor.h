// FailureMonitor: per process, what this process believes about the reachability of each peer
// address. The transport marks an address failed when its connection to it breaks or an attempt
// to connect fails while no other connection to it lives (the peer may have connected to us
// meanwhile), and available when a connection completes its handshake. Unknown addresses count as
// available until a connection attempt says otherwise.
#pragma once

#include <map>
#include <vector>

#include "rpc/endpoint.h"
#include "runtime/future.h"

namespace keel {

class FailureMonitor {
 public:
  bool is_failed(NetworkAddress address) const;
  // Ready when the address is failed (at once if it already is).
  Future<Void> on_failed(NetworkAddress address);
  Future<Void> on_failed(const Endpoint& endpoint) { return on_failed(endpoint.address); }
  // Ready when the address's state next changes.
  Future<Void> on_state_changed(NetworkAddress address);

  void set_failed(NetworkAddress address, bool failed);

 private:
  struct State {
    bool failed = false;
    std::vector<Promise<Void>> waiters;
  };
  std::map<NetworkAddress, State> states_;
};

}  // namespace keel

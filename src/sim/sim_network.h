// The simulated network: byte-stream connections between simulated processes.
//
// Each direction of each machine pair is a link with its own latency (drawn once per run) and
// jitter; bytes written on a connection arrive in order after the link's latency. A link can be
// clogged until some time (everything sent meanwhile waits for the clog to end; a partition is
// a long clog of the links that cross it, and the transport's idle timeout then breaks the
// connections). A connection can be broken (both ends fail; bytes in flight are lost), which
// also happens to every connection of a killed process. connect() fails when nothing listens at
// the address when the attempt arrives.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "runtime/random.h"
#include "world/world.h"

namespace keel::sim {

class SimNetwork;

class SimConnection final : public IConnection, public std::enable_shared_from_this<SimConnection> {
 public:
  SimConnection(SimNetwork& network, NetworkAddress local, NetworkAddress peer, uint32_t owner_process)
      : network_(network), local_(local), peer_address_(peer), owner_process_(owner_process) {}

  void write(std::string bytes) override;
  size_t bytes_unsent() const override { return 0; }
  Future<Void> on_unsent_at_most(size_t) override { return Void{}; }
  Future<std::string> read_some() override;
  void close() override;
  NetworkAddress peer_address() const override { return peer_address_; }

  // Fails both ends now; bytes in flight are lost.
  void break_connection();
  uint32_t owner_process() const { return owner_process_; }

 private:
  friend class SimNetwork;
  void deliver(std::string bytes);
  void peer_closed();
  void fail_reader();

  SimNetwork& network_;
  NetworkAddress local_;
  NetworkAddress peer_address_;
  uint32_t owner_process_;
  std::weak_ptr<SimConnection> peer_;
  std::deque<std::string> incoming_;
  std::optional<Promise<std::string>> reader_;
  bool closed_ = false;         // this end closed or broken
  bool peer_finished_ = false;  // the peer closed: fail reads once incoming_ drains
  uint64_t generation_ = 0;     // bumped when broken: drops this end's bytes in flight
  double last_arrival_ = 0;     // keeps this direction in order
};

class SimListener final : public IListener {
 public:
  SimListener(SimNetwork& network, NetworkAddress address, uint32_t process)
      : network_(network), address_(address), process_(process) {}
  ~SimListener() override;
  Future<std::shared_ptr<IConnection>> accept() override;
  NetworkAddress address() const override { return address_; }
  void offer(std::shared_ptr<IConnection> connection);
  uint32_t process() const { return process_; }

 private:
  SimNetwork& network_;
  NetworkAddress address_;
  uint32_t process_;
  std::deque<std::shared_ptr<IConnection>> backlog_;
  std::optional<Promise<std::shared_ptr<IConnection>>> acceptor_;
};

class SimNetwork {
 public:
  explicit SimNetwork(DeterministicRandom& random) : random_(random) {}

  std::shared_ptr<IListener> listen(NetworkAddress address, uint32_t process);
  void remove_listener(NetworkAddress address, SimListener* listener);
  Future<std::shared_ptr<IConnection>> connect(NetworkAddress from, NetworkAddress to, uint32_t process);

  // Clogs traffic from machine `from_ip` to `to_ip` for `seconds`.
  void clog(uint32_t from_ip, uint32_t to_ip, double seconds);
  // Breaks every connection whose end belongs to `process`.
  void break_connections_of(uint32_t process);
  // Breaks one random connection; false if there is none.
  bool break_random_connection();

  // When bytes sent now from `from` to `to` arrive.
  double arrival_time(uint32_t from_ip, uint32_t to_ip);
  double clogged_until(uint32_t from_ip, uint32_t to_ip) const;

  uint64_t bytes_delivered() const { return bytes_delivered_; }

 private:
  friend class SimConnection;
  struct Link {
    double latency = 0;
    double clogged_until = 0;
  };
  Link& link(uint32_t from_ip, uint32_t to_ip);
  void track(const std::shared_ptr<SimConnection>& connection);

  DeterministicRandom& random_;
  std::map<std::pair<uint32_t, uint32_t>, Link> links_;
  std::map<NetworkAddress, SimListener*> listeners_;
  std::vector<std::weak_ptr<SimConnection>> connections_;
  uint64_t bytes_delivered_ = 0;
};

}  // namespace keel::sim
